// Image reference parsing and formatting.
export { dockerHub, formatName, formatReference, isLoopbackRegistry, parseReference, withDigest, type NormalizedRef } from './reference.js';
