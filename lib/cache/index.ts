// Content-addressed blob cache.
export { createBlobCache, missingBlobError, type BlobCache, type BlobCacheOptions } from './blob-cache.js';
