// What a local image source offers the build, and the reads and errors its two kinds share.
import { constants } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { digestAlgorithm, digestOf, type Digest } from '../digest/index.js';
import { DigestMismatchError, LkvolError, wrapError } from '../errors.js';
import type { Descriptor } from '../oci/index.js';
import type { ManifestSource } from '../registry/index.js';

/** A layout or archive seen as a registry: manifests and configs as bytes, layers as streams. */
export interface LocalImageSource extends ManifestSource {
  /**
   * The bytes of a blob of the image, unverified: the caller stores them through the cache, which checks digest and
   * size.
   */
  openBlob(descriptor: Descriptor, opts?: { signal?: AbortSignal | undefined }): Promise<Readable>;
}

/** A temporary file of the build (in the cache's tmp directory), removed with `discard`. */
export interface TempFile {
  path: string;
  discard(): Promise<void>;
}

/** What a local source may need besides its path: where to put a decompressed archive. */
export interface LocalSourceOptions {
  tempFile: () => TempFile;
}

/** What lkvol reads of a manifest or config at most (as from a registry). */
export const documentLimit = 4 << 20;

/** LKVOL_LOCAL_IMAGE about `subject` (the reference as written). */
export function localError(subject: string, message: string, o: { hint: string; cause?: unknown }): LkvolError {
  return new LkvolError('LKVOL_LOCAL_IMAGE', `${subject}: ${message}`, { hint: o.hint, cause: o.cause });
}

/** Mismatches found in a local file say where the file is, and that fetching again will not help. */
export const localMismatchHint =
  'the layout or archive was changed or damaged after it was written: write it again (skopeo copy, docker save)';

/**
 * A file missing or of the wrong kind is LKVOL_LOCAL_IMAGE; an abort LKVOL_CANCELLED; other failures are
 * the host's (LKVOL_IO). `what` is the file, for messages, as in {@link OpenOptions}.
 */
export function readFailure(err: unknown, o: { subject: string; what: string; hint: string }): LkvolError {
  if (err instanceof LkvolError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const { subject, what, hint } = o;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR')
    return localError(subject, `${what}: ${code === 'EISDIR' ? 'is a directory' : 'does not exist'}`, {
      hint,
      cause: err,
    });
  return wrapError(err, 'LKVOL_IO', `${subject}: read ${what}`);
}

/** How a file of a layout or archive is opened. */
export interface OpenOptions {
  subject: string;
  /** What the file is, for messages: `layer sha256:…`, `index.json`. */
  what: string;
  hint: string;
  /** A directory (real path) the file must really be in: a symlink out of a layout is refused. */
  within?: string | undefined;
  /**
   * The size a descriptor gives it: a file of another size is damaged (and a /proc file that reads for ever is refused
   * here).
   */
  size?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Opens a file of a layout or archive for reading, refusing anything but a regular file (a FIFO would
 * block the build for ever, a device would never end), one outside `within`, and one of another `size`.
 * @throws LKVOL_LOCAL_IMAGE naming `what`; LKVOL_DIGEST_MISMATCH for a wrong size; LKVOL_IO; LKVOL_CANCELLED.
 */
export async function openRegularFile(file: string, o: OpenOptions): Promise<{ handle: FileHandle; size: number }> {
  if (o.signal?.aborted === true) throw new LkvolError('LKVOL_CANCELLED', `${o.subject}: cancelled`);
  if (o.within !== undefined) {
    const real = await realpath(file).catch((err: unknown) => {
      throw readFailure(err, o);
    });
    const inside = relative(o.within, real);
    if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside))
      throw localError(o.subject, `${o.what}: is a link out of ${o.within}`, { hint: o.hint });
  }
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it has no effect on a regular file).
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw readFailure(err, o);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw localError(o.subject, `${o.what}: is not a regular file`, { hint: o.hint });
    if (o.size !== undefined && st.size !== o.size) {
      throw new DigestMismatchError({
        subject: `${o.subject}: ${o.what}`,
        expected: `${o.size} bytes`,
        actual: `a file of ${st.size} bytes`,
        bytesRead: 0,
        reason: 'size mismatch',
        hint: localMismatchHint,
      });
    }
    return { handle, size: st.size };
  } catch (err) {
    await handle.close();
    throw err instanceof LkvolError ? err : readFailure(err, o);
  }
}

/**
 * `length` bytes of `file` from `position` (the whole file without a length), refusing more than
 * `limit`; opened as {@link openRegularFile} does.
 */
export async function readBytes(
  file: string,
  o: OpenOptions & { limit: number; position?: number; length?: number },
): Promise<Buffer> {
  const { handle, size } = await openRegularFile(file, o);
  try {
    const length = o.length ?? size;
    if (length > o.limit)
      throw localError(o.subject, `${o.what} is ${length} bytes, more than the ${o.limit} lkvol reads`, {
        hint: o.hint,
      });
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, o.position ?? 0);
    if (bytesRead !== length)
      throw localError(o.subject, `${o.what}: the file ends after ${bytesRead} of ${length} bytes`, { hint: o.hint });
    return buf;
  } catch (err) {
    throw err instanceof LkvolError ? err : readFailure(err, o);
  } finally {
    await handle.close();
  }
}

/** Checks bytes read from a layout or archive against the descriptor that named them. */
export function verifyBytes(bytes: Buffer, d: { digest: Digest; size?: number | undefined }, subject: string): void {
  const actual = digestOf(bytes, digestAlgorithm(d.digest));
  if (actual !== d.digest)
    throw new DigestMismatchError({
      subject,
      expected: d.digest,
      actual,
      bytesRead: bytes.length,
      hint: localMismatchHint,
    });
  if (d.size !== undefined && d.size !== bytes.length) {
    throw new DigestMismatchError({
      subject,
      expected: `${d.size} bytes`,
      actual: `${bytes.length} bytes`,
      bytesRead: bytes.length,
      reason: 'size mismatch',
      hint: localMismatchHint,
    });
  }
}
