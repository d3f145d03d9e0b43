// Digest parsing and verifying streams.
export {
  digestAlgorithm,
  digestHex,
  digestOf,
  isDigest,
  parseDigest,
  shortDigest,
  type Digest,
  type DigestAlgorithm,
} from './digest.js';
export { createHasher, createVerifier, type VerifyOptions } from './verify.js';
