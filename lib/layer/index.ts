// Layer extraction: apply OCI layer blobs onto a volume root, safely (see README.md in this folder).
export { extractionRulesVersion } from './rules.js';
export { createExtractState, type ExtractState, type IntendedMetadata, type LayerWarning } from './context.js';
export { createDecompressor, detectCompression, sniffLength, type Compression } from './decompress.js';
export { extractLayer, type ExtractLayerOptions, type ExtractLayerResult } from './extract.js';
export { createStreamCap, defaultLimits, type LayerLimits, type VolumeLimits } from './limits.js';
export { createTarFramingCheck } from './source.js';
export type { SkippedEntry } from './special.js';
export { finishExtraction, volumeReport, type VolumeReport } from './volume.js';
export { copyAppliedXattrs, readAppliedXattrs } from './xattrs.js';
