// The build: config → pulled, unpacked volumes and runtime specs, written atomically.
export { build, type BuildResult } from './run.js';
export { hostPlatform, resolveBuildOptions, type BuildOptions } from './options.js';
export type { BuildRecord, ContainerRecord, LayerRecord, VolumeRecord } from './record.js';
export { inspectImage, type InspectOptions, type InspectResult, type InspectedBlob } from './inspect.js';
