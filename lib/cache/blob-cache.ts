// Content-addressed blob store: temp file, verify while streaming, rename into place; verify on read.
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createVerifier, digestAlgorithm, digestHex, type Digest } from '../digest/index.js';
import { LkvolError, isLkvolError, wrapError } from '../errors.js';
import { followBlob, FollowInterruptedError, GrowingFiles, readSize } from './growing.js';
import { holdTemp, isOrphanTemp, writerTag } from './writers.js';

/** Layout version: bump when the on-disk layout changes so old caches are simply ignored. */
const layoutVersion = 'v1';
/** Temp files older than this are leftovers of a killed build, whoever wrote them. */
const staleTempMs = 60 * 60 * 1000;

export interface BlobCacheOptions {
  /** Cache root; lkvol keeps its files under `<dir>/v1/`. */
  dir: string;
}

export interface BlobCache {
  readonly dir: string;
  /** Path a blob lives at once stored (it may not exist). */
  pathOf(digest: Digest): string;
  /** True when the blob is present (not re-verified). */
  has(digest: Digest): Promise<boolean>;
  /**
   * Streams `source` into the store, verifying digest and size; the blob becomes visible only when
   * complete and correct. Throws LKVOL_DIGEST_MISMATCH or LKVOL_IO; nothing partial is left behind.
   */
  put(
    digest: Digest,
    size: number | undefined,
    source: Readable,
    opts: {
      subject: string;
      signal?: AbortSignal;
      onProgress?: (bytes: number) => void;
      sourceVerifies?: boolean;
      mismatchHint?: string;
    },
  ): Promise<void>;
  /** Opens a stored blob through a verifier: a corrupted blob fails the read with LKVOL_DIGEST_MISMATCH. */
  open(digest: Digest, size: number | undefined, subject: string): Readable;
  /**
   * The blob while a `put` of it in this process writes it (`stored` settles when the put, retries
   * included, is done): its bytes are read from the temp file as they arrive, so a layer can be
   * unpacked while it downloads; the stream ends only once the download has verified and stored
   * them (see `followBlob`; it may fail with `FollowInterruptedError`: start over from the cache).
   * When the blob is already stored, the same as {@link open}. Rejects, or fails the stream, with
   * the download's error.
   */
  openWhileStoring(digest: Digest, size: number | undefined, subject: string, stored: Promise<void>): Promise<Readable>;
  /** Removes a blob (used when it turned out corrupt). */
  remove(digest: Digest): Promise<void>;
  /**
   * A path for a temporary file of this build (a provisioner's output) in the cache's tmp directory,
   * removed by a later build if this process dies; `discard` removes it.
   */
  tempFile(): { path: string; discard(): Promise<void> };
}

/**
 * Creates (or opens) a blob cache at `dir`, removing temp files of killed builds: those whose writer
 * (named in the file name) is a dead process of this host, and any older than an hour. Throws LKVOL_IO.
 */
export async function createBlobCache(opts: BlobCacheOptions): Promise<BlobCache> {
  const base = join(opts.dir, layoutVersion);
  const tmpDir = join(base, 'tmp');
  try {
    await mkdir(join(base, 'blobs'), { recursive: true });
    await mkdir(tmpDir, { recursive: true });
    await removeStaleTemps(tmpDir);
  } catch (err) {
    throw wrapError(err, 'LKVOL_IO', {
      message: `open cache ${opts.dir}`,
      hint: 'check the path and its permissions, or pass another --cache directory',
    });
  }
  const pathOf = (d: Digest) => join(base, 'blobs', digestAlgorithm(d), digestHex(d));
  const growing = new GrowingFiles();
  const open = (d: Digest, size: number | undefined, subject: string): Readable => {
    const verifier = createVerifier({ digest: d, size, subject: `${subject} (cached at ${pathOf(d)})` });
    const file = createReadStream(pathOf(d), { highWaterMark: readSize });
    file.on('error', (err) => verifier.destroy(wrapError(err, 'LKVOL_IO', `${subject}: read cache ${pathOf(d)}`)));
    // A consumer that stops early (a refused layer) destroys the verifier; the file must close with it.
    verifier.once('close', () => file.destroy());
    verifier.once('error', (err) => {
      if (isLkvolError(err, 'LKVOL_DIGEST_MISMATCH')) corruptCached.set(err, d);
    });
    return file.pipe(verifier);
  };
  return {
    dir: opts.dir,
    pathOf,
    async has(d) {
      return stat(pathOf(d)).then(
        (s) => s.isFile(),
        () => false,
      );
    },
    async put(d, size, source, { subject, signal, onProgress, sourceVerifies, mismatchHint }) {
      const final = pathOf(d);
      const temp = join(tmpDir, `${digestHex(d).slice(0, 16)}.${writerTag()}.${randomBytes(6).toString('hex')}`);
      const release = holdTemp(temp);
      let settle: ((stored: boolean) => void) | undefined;
      try {
        // NB: no await before the pipeline takes `source`: a small blob may already have ended, and
        // its error would have nobody to hear it.
        // A source that checks digest and size itself (a registry blob) fails before its end when wrong:
        // hashing every byte a second time would only cost time.
        const verifier =
          sourceVerifies === true ? createCounter() : createVerifier({ digest: d, size, subject, hint: mismatchHint });
        if (onProgress !== undefined) verifier.on('data', () => onProgress(verifier.bytesRead));
        const writer = growing.writer(d, temp);
        settle = writer.settle;
        await pipeline(source, verifier, writer.stream, signal ? { signal } : {});
        // Concurrent writers of the same digest produce identical bytes, so the last rename wins harmlessly.
        await mkdir(join(base, 'blobs', digestAlgorithm(d)), { recursive: true });
        await rename(temp, final);
        writer.settle(true);
      } catch (err) {
        settle?.(false);
        await rm(temp, { force: true });
        if (isLkvolError(err)) throw err;
        throw wrapError(err, 'LKVOL_IO', `${subject}: store in cache ${opts.dir}`);
      } finally {
        release();
      }
    },
    open,
    async openWhileStoring(d, size, subject, stored) {
      // Already stored (or stored before we looked): an ordinary read, whose mismatch means a corrupt cache.
      const storedFirst = stored.then(() => undefined);
      storedFirst.catch(() => undefined); // reported by whoever awaits `stored`
      const wait = growing.next(d);
      const first = await Promise.race([storedFirst, wait.attempt]).finally(wait.cancel);
      if (first === undefined) return open(d, size, subject);
      const source = followBlob({ growing, digest: d, finalPath: pathOf(d), stored, first });
      const out = new PassThrough({ highWaterMark: 256 * 1024 });
      source.on('error', (err) =>
        out.destroy(
          isLkvolError(err) || err instanceof FollowInterruptedError
            ? err
            : wrapError(err, 'LKVOL_IO', `${subject}: read cache ${opts.dir}`),
        ),
      );
      out.once('close', () => source.destroy());
      return source.pipe(out);
    },
    async remove(d) {
      await rm(pathOf(d), { force: true });
    },
    tempFile() {
      const path = join(tmpDir, `${randomBytes(4).toString('hex')}.${writerTag()}.${randomBytes(6).toString('hex')}`);
      const release = holdTemp(path);
      return {
        path,
        async discard() {
          await rm(path, { force: true });
          release();
        },
      };
    },
  };
}

async function removeStaleTemps(tmpDir: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(tmpDir)) {
    const p = join(tmpDir, name);
    const s = await stat(p).catch(() => undefined);
    if (s !== undefined && (now - s.mtimeMs > staleTempMs || isOrphanTemp(p, name)))
      await rm(p, { force: true, recursive: true });
  }
}

/** A pass-through that counts bytes (`bytesRead`) for progress, where the source verifies itself. */
function createCounter(): Transform & { readonly bytesRead: number } {
  let bytesRead = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytesRead += chunk.length;
      cb(null, chunk);
    },
  });
  Object.defineProperty(t, 'bytesRead', { get: () => bytesRead });
  return t as Transform & { readonly bytesRead: number };
}

/**
 * Digest mismatches raised while reading a stored blob, mapped to the blob: the cache, not the registry, is at fault.
 */
const corruptCached = new WeakMap<object, Digest>();

/** The digest of the stored blob whose read raised `err` because its bytes are corrupt, else undefined. */
export function corruptCachedDigest(err: unknown): Digest | undefined {
  return typeof err === 'object' && err !== null ? corruptCached.get(err) : undefined;
}

/** Thrown when a blob is needed but absent and the network may not be used. */
export function missingBlobError(digest: Digest, subject: string): LkvolError {
  return new LkvolError('LKVOL_REGISTRY_UNAVAILABLE', `${subject}: blob ${digest} is not in the cache`, {
    hint: 'run the build once without --offline',
  });
}
