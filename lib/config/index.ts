// System files: loading, merging and checking (public surface of lib/config).
export { loadConfig, parseConfig, type ConfigSource } from './load.js';
export { checkVolumeRefs } from './volume-refs.js';
export { buildIdMap, firstContainerId, repeatedNames } from './ids.js';
export { entryWarnings, idWarnings, type ConfigWarningCode, type FieldWarning, type RepeatedName } from './warnings.js';
export { parseSize, type SizeParse } from './size.js';
export { formatPath } from './positions.js';
export { knownCapabilities } from './container-fields.js';
export { normalizeImageConfig } from './spellings.js';
export {
  checkDestination,
  isReadOnlyOptions,
  isVolumeMount,
  isVolumeSource,
  mountType,
  parseBind,
  volumeMergedPath,
  type Bind,
  type BindParse,
} from './binds.js';
export { parseYamlFile } from './yaml-file.js';
export {
  containerSchema,
  containerFieldsSchema,
  mountSchema,
  resourcesSchema,
  runtimeSchema,
  sections,
  sizeSchema,
  systemFileSchema,
  volumeSchema,
  type ContainerEntry,
  type ContainerFields,
  type MountEntry,
  type RuntimeConfig,
  type Section,
  type SystemFile,
  type VolumeEntry,
} from './schema.js';
export type { DocPath } from './doc-path.js';
export type {
  Config,
  ConfigWarning,
  EntrySource,
  FileEntry,
  KernelConfig,
  LoadedContainer,
  LoadedFile,
  LoadedProvisioner,
  LoadedVolume,
  SourcePos,
} from './types.js';
