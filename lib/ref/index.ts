// Image reference parsing and formatting.
export { canonicalRegistry, dockerHub, dockerHubApiHost, formatName, formatReference, isLoopbackRegistry, parseReference, withDigest, type NormalizedRef } from './reference.js';
