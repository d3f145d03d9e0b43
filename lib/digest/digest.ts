// Digest: the validated `algorithm:hex` string that names a blob, and how to compute one.
import { createHash } from 'node:crypto';
import { LkvolError } from '../errors.js';

declare const digestBrand: unique symbol;
/** A validated content digest (`sha256:` + 64 lowercase hex, or `sha512:` + 128). Only `parseDigest` makes one. */
export type Digest = string & { readonly [digestBrand]: true };

export type DigestAlgorithm = 'sha256' | 'sha512';

const digestPatterns: Record<DigestAlgorithm, RegExp> = {
  sha256: /^sha256:[a-f0-9]{64}$/,
  sha512: /^sha512:[a-f0-9]{128}$/,
};

/** True when `s` is a digest lkvol can verify. */
export function isDigest(s: string): s is Digest {
  const alg = s.slice(0, s.indexOf(':'));
  return alg in digestPatterns && digestPatterns[alg as DigestAlgorithm].test(s);
}

/**
 * Validates a digest before it reaches a URL or a file path (CVE-2024-3727).
 * @throws LKVOL_REF_INVALID naming `what` and the bad value.
 */
export function parseDigest(s: string, what = 'digest'): Digest {
  if (isDigest(s)) return s;
  throw new LkvolError(
    'LKVOL_REF_INVALID',
    `${what}: invalid digest ${JSON.stringify(truncate(s))}: want sha256:<64 lowercase hex> or sha512:<128 lowercase hex>`,
  );
}

/** The algorithm part of a digest. */
export function digestAlgorithm(d: Digest): DigestAlgorithm {
  return d.slice(0, d.indexOf(':')) as DigestAlgorithm;
}

/** The hex part of a digest. */
export function digestHex(d: Digest): string {
  return d.slice(d.indexOf(':') + 1);
}

/** Digest of an in-memory buffer (manifests, configs). */
export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}` as Digest;
}

/** A short form for messages: `sha256:0123456789ab`. */
export function shortDigest(d: string): string {
  return d.length > 19 ? d.slice(0, 19) : d;
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
