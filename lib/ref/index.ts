// Image reference parsing and formatting.
export {
  canonicalRegistry,
  dockerHub,
  dockerHubApiHost,
  formatLocalImage,
  formatName,
  formatReference,
  isLoopbackRegistry,
  parseReference,
  referenceKey,
  withDigest,
  localTransports,
  type LocalImage,
  type LocalTransport,
  type NormalizedRef,
} from './reference.js';
