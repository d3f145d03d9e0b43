// The build: config → pulled, unpacked volumes and runtime specs, written atomically.
export { build, type BuildResult } from './run.js';
export { resolveBuildOptions, type BuildOptions } from './options.js';
export type { BuildRecord, ContainerRecord, LayerRecord, RootfsRecord, VolumeRecord } from './record.js';
export { lock, type LockOptions, type LockResult } from './lock.js';
