// Public surface of lib/runtime-spec: image label, precedence and runtime spec emission.
export { parseImageLabel, readImageLabel, mobyConfigLabel } from './label.js';
export { precedenceTable, resolveContainerConfig, applyImageConfig } from './precedence.js';
export type { MergeRule, ImageSource, PrecedenceRow } from './precedence.js';
export { emitRuntimeSpec, defaultOciVersion } from './emit.js';
export type { EmitOptions } from './emit.js';
export { bundlePath } from './bundle.js';
export { bindOptions, defaultMounts } from './mounts.js';
export { rootfsMounts } from './runtime.js';
export { knownRlimits, rlimitUnlimited } from './rlimits.js';
export type {
  ImageConfigInput,
  MergedConfig,
  RuntimeSpec,
  RuntimeJson,
  SpecMount,
  SpecProcess,
  SpecLinux,
  SpecCapabilities,
  SpecRlimit,
  SpecNamespace,
  SpecDevice,
  SpecDeviceRule,
  SpecResources,
  RuntimeInterface,
  IdMapping,
} from './types.js';
