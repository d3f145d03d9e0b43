// lkvol's public API: explicit named re-exports only.
export {
  build,
  lock,
  type BuildOptions,
  type BuildRecord,
  type BuildResult,
  type ContainerRecord,
  type LayerRecord,
  type LockOptions,
  type LockResult,
  type RootfsRecord,
  type VolumeRecord,
} from './build/index.js';
export { inspectImage, type InspectOptions, type InspectResult, type InspectedBlob } from './pull/index.js';
export {
  loadConfig,
  parseConfig,
  parseSize,
  type Config,
  type ConfigSource,
  type ConfigWarning,
  type LoadedContainer,
  type LoadedVolume,
} from './config/index.js';
export {
  ConfigError,
  DigestMismatchError,
  LkvolError,
  RegistryError,
  UnsafePathError,
  errorCodes,
  exitCodeFor,
  formatConfigIssue,
  isLkvolError,
  type ConfigIssue,
  type ErrorCode,
} from './errors.js';
export { discardEvents, type BuildEvent, type EventSink } from './events.js';
export { warningCodes, type WarningCode } from './warnings.js';
export { formatPlatform, hostPlatform, parsePlatform, type Platform } from './oci/index.js';
export { formatReference, parseReference, type NormalizedRef } from './ref/index.js';
export { parseMirror, type Mirror, type ProxyOptions } from './registry/index.js';
export { version } from './version.js';
export { editDistance } from './internal/compare.js';
export {
  checkConfigHostPaths,
  loadPolicy,
  parsePolicy,
  policyHint,
  policyViolation,
  type Policy,
} from './policy/index.js';
export { checkSources, sourcesHint } from './build/sources.js';
