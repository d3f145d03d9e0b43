// What a local image source offers the build, and the reads and errors its two kinds share.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { digestAlgorithm, digestOf, type Digest } from '../digest/index.js';
import { DigestMismatchError, LkvolError, wrapError } from '../errors.js';
import type { Descriptor } from '../oci/index.js';
import type { ManifestSource } from '../registry/index.js';

/** A layout or archive seen as a registry: manifests and configs as bytes, layers as streams. */
export interface LocalImageSource extends ManifestSource {
  /** The bytes of a blob of the image, unverified: the caller stores them through the cache, which checks digest and size. */
  openBlob(descriptor: Descriptor): Promise<Readable>;
}

/** What lkvol reads of a manifest or config at most (as from a registry). */
export const documentLimit = 4 << 20;

/** LKVOL_LOCAL_IMAGE about `subject` (the reference as written). */
export function localError(subject: string, message: string, hint: string, cause?: unknown): LkvolError {
  return new LkvolError('LKVOL_LOCAL_IMAGE', `${subject}: ${message}`, { hint, cause });
}

/** Mismatches found in a local file say where the file is, and that fetching again will not help. */
export const localMismatchHint = 'the layout or archive was changed or damaged after it was written: write it again (skopeo copy, docker save)';

/** A file missing or of the wrong kind is LKVOL_LOCAL_IMAGE; other failures are the host's (LKVOL_IO). */
export function readFailure(err: unknown, subject: string, what: string, hint: string): LkvolError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return localError(subject, `${what}: ${code === 'EISDIR' ? 'is a directory' : 'does not exist'}`, hint, err);
  return wrapError(err, 'LKVOL_IO', `${subject}: read ${what}`);
}

/**
 * Opens a file of a layout or archive for reading, refusing anything but a regular file (a FIFO would
 * block the build for ever, a device would never end). @throws LKVOL_LOCAL_IMAGE naming `what`; LKVOL_IO.
 */
export async function openRegularFile(file: string, o: { subject: string; what: string; hint: string }): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it has no effect on a regular file).
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw readFailure(err, o.subject, o.what, o.hint);
  }
  const st = await handle.stat().catch(async (err: unknown) => {
    await handle.close();
    throw readFailure(err, o.subject, o.what, o.hint);
  });
  if (!st.isFile()) {
    await handle.close();
    throw localError(o.subject, `${o.what}: is not a regular file`, o.hint);
  }
  return { handle, size: st.size };
}

/**
 * `length` bytes of `file` from `position` (the whole file without a length), refusing more than
 * `limit`; missing files and anything but a regular file are LKVOL_LOCAL_IMAGE naming `what`.
 */
export async function readBytes(file: string, o: { subject: string; what: string; hint: string; limit: number; position?: number; length?: number }): Promise<Buffer> {
  const { handle, size } = await openRegularFile(file, o);
  try {
    const length = o.length ?? size;
    if (length > o.limit) throw localError(o.subject, `${o.what} is ${length} bytes, more than the ${o.limit} lkvol reads`, o.hint);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, o.position ?? 0);
    if (bytesRead !== length) throw localError(o.subject, `${o.what}: the file ends after ${bytesRead} of ${length} bytes`, o.hint);
    return buf;
  } catch (err) {
    throw err instanceof LkvolError ? err : readFailure(err, o.subject, o.what, o.hint);
  } finally {
    await handle.close();
  }
}

/** Checks bytes read from a layout or archive against the descriptor that named them. */
export function verifyBytes(bytes: Buffer, d: { digest: Digest; size?: number | undefined }, subject: string): void {
  const actual = digestOf(bytes, digestAlgorithm(d.digest));
  if (actual !== d.digest) throw new DigestMismatchError({ subject, expected: d.digest, actual, bytesRead: bytes.length, hint: localMismatchHint });
  if (d.size !== undefined && d.size !== bytes.length) {
    throw new DigestMismatchError({ subject, expected: `${d.size} bytes`, actual: `${bytes.length} bytes`, bytesRead: bytes.length, reason: 'size mismatch', hint: localMismatchHint });
  }
}
