// The OCI data model: media types, schemas, documents and platform selection.
export { checkImageManifest, parseImageConfig, parseManifestDocument, type ManifestDocument } from './document.js';
export { checkImageLayers } from './layers.js';
export {
  baseMediaType,
  isConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  manifestAccept,
  mediaTypes,
  type KnownMediaType,
} from './media-types.js';
export {
  formatPlatform,
  hostPlatform,
  isSamePlatform,
  normalizePlatform,
  parsePlatform,
  rankPlatform,
  type Platform,
} from './platform.js';
export {
  containerConfigSchema,
  descriptorSchema,
  imageConfigSchema,
  indexSchema,
  manifestSchema,
  platformSchema,
  type ContainerConfig,
  type Descriptor,
  type ImageConfig,
  type Index,
  type Manifest,
  type PlatformSpec,
} from './schema.js';
export { listPlatformEntries, selectManifest, selectPlatformEntries, type SelectedManifest } from './select.js';
