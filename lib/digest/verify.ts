// A pass-through stream that hashes and counts what flows through it and fails on mismatch at EOF.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError } from '../errors.js';
import { digestAlgorithm, type Digest } from './digest.js';

export interface VerifyOptions {
  /** Expected digest of the bytes. */
  digest: Digest;
  /** Expected size in bytes; more bytes fail at once, fewer fail at EOF. */
  size?: number | undefined;
  /** What the bytes are, for the error message (e.g. `layer sha256:… of alpine@sha256:…`). */
  subject: string;
  /** What a mismatch's error tells the user to do, when not the default (retry, or clear the cache). */
  hint?: string | undefined;
}

/**
 * Creates a Transform that passes bytes through unchanged, fails with LKVOL_DIGEST_MISMATCH as soon
 * as the stream exceeds `size`, and at EOF when the size or digest differ. A consumer must read it to
 * EOF for the check to run (ggcr internal/verify).
 */
export function createVerifier(opts: VerifyOptions): Transform & { readonly bytesRead: number } {
  const hash: Hash = createHash(digestAlgorithm(opts.digest));
  let bytesRead = 0;
  const mismatch = (actual: string, reason?: string) =>
    new DigestMismatchError({
      subject: opts.subject,
      expected: opts.digest,
      actual,
      bytesRead,
      ...(reason === undefined ? {} : { reason }),
      ...(opts.hint === undefined ? {} : { hint: opts.hint }),
    });
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      bytesRead += chunk.length;
      if (opts.size !== undefined && bytesRead > opts.size) {
        cb(mismatch(`more than ${opts.size} bytes`, 'size mismatch'));
        return;
      }
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (opts.size !== undefined && bytesRead !== opts.size) {
        cb(mismatch(`${bytesRead} bytes, want ${opts.size}`, 'size mismatch'));
        return;
      }
      const actual = `${digestAlgorithm(opts.digest)}:${hash.digest('hex')}`;
      cb(actual === opts.digest ? null : mismatch(actual));
    },
  });
  Object.defineProperty(stream, 'bytesRead', { get: () => bytesRead });
  return stream as Transform & { readonly bytesRead: number };
}

/** A Transform that only computes the digest of what passes (for diff_ids); read `digest()` after EOF. */
export function createHasher(
  algorithm: 'sha256' | 'sha512' = 'sha256',
): Transform & { digest(): Digest; readonly bytes: number } {
  const hash = createHash(algorithm);
  let bytes = 0;
  let result: Digest | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  Object.defineProperty(stream, 'bytes', { get: () => bytes });
  return Object.assign(stream, {
    digest(): Digest {
      result ??= `${algorithm}:${hash.digest('hex')}` as Digest;
      return result;
    },
  }) as Transform & { digest(): Digest; readonly bytes: number };
}
