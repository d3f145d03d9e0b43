// The registry client: transport (auth, retries, redirects), credentials and image resolution.
export { parseWwwAuthenticate, type Challenge } from './challenge.js';
export {
  createRegistryClient,
  type FetchedManifest,
  type ManifestHead,
  type ManifestOptions,
  type RegistryClient,
  type RegistryClientOptions,
} from './client.js';
export { type ProxyOptions } from './dispatcher.js';
export { checkManifest } from './manifest.js';
export { parseMirror, type Mirror, type MirrorWarning } from './mirrors.js';
export {
  loadCredentials,
  loadDockerCredentials,
  lookupCredentials,
  normalizeAuthKey,
  type CredentialOptions,
  type CredentialResolver,
  type CredentialWarning,
  type Credentials,
} from './credentials.js';
export { loadRegistryTls, type RegistryTls, type TlsSources } from './tls.js';
export { type BlobOptions } from './blob.js';
export { redactUrl } from './redact.js';
export { resolveImage, type ManifestSource, type ResolvedImage } from './resolve.js';
export { bodyLimits } from './response.js';
export { defaultRetryOptions, parseRetryAfter, type RetryOptions } from './retry.js';
export {
  createTransport,
  type RegistryRequest,
  type RegistryResponse,
  type Transport,
  type TransportOptions,
} from './transport.js';
export { nearestTags } from './tags.js';
