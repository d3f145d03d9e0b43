// Pulling images: one session per command resolves references and fetches blobs into the cache, from
// registries (cache first) and local layouts and archives; `inspect` describes an image through it.
export { createPullSession, type PullSession, type PullSessionOptions } from './session.js';
export { inspectImage, type InspectOptions, type InspectResult, type InspectedBlob } from './inspect.js';
export {
  resolveCwd,
  resolvePaths,
  resolveRegistryOptions,
  type PathOptions,
  type PullOptions,
  type RegistryOptions,
} from './options.js';
