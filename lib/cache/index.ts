// Content-addressed blob cache.
export {
  corruptCachedDigest,
  createBlobCache,
  missingBlobError,
  type BlobCache,
  type BlobCacheOptions,
} from './blob-cache.js';
export { FollowInterruptedError } from './growing.js';
