// Content-addressed blob cache.
export {
  corruptCachedDigest,
  createBlobCache,
  missingBlobError,
  type BlobCache,
  type BlobCacheOptions,
} from './blob-cache.js';
export { FollowInterruptedError, singleReadSize } from './growing.js';
