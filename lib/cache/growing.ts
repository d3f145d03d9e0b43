// Blobs being written into the cache, readable while they grow: extraction starts before a download ends.
import { open, type FileHandle } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { LkvolError } from '../errors.js';

/** One attempt at writing a blob's temp file: how far it got and how it ended. */
export interface GrowingFile {
  readonly path: string;
  /** Bytes written (and readable) so far. */
  readonly written: number;
  readonly state: 'writing' | 'done' | 'failed';
  /** Resolves at the next change of `written` or `state`. */
  changed(): Promise<void>;
}

/** The registry of blobs being written, by digest: each put registers its attempt. */
export class GrowingFiles {
  readonly #files = new Map<string, GrowingFile>();
  readonly #waiting = new Map<string, Array<(f: GrowingFile) => void>>();

  /** The attempt writing `digest` now, if any. */
  current(digest: string): GrowingFile | undefined {
    return this.#files.get(digest);
  }

  /**
   * Resolves with the next attempt to write `digest` (or the current one); `cancel` forgets the
   * wait (the caller learnt otherwise that the blob is stored), so waits do not pile up.
   */
  next(digest: string): { attempt: Promise<GrowingFile>; cancel(): void } {
    const now = this.#files.get(digest);
    if (now !== undefined && now.state === 'writing') return { attempt: Promise.resolve(now), cancel: () => undefined };
    let wake: (f: GrowingFile) => void = () => undefined;
    const attempt = new Promise<GrowingFile>((resolve) => (wake = resolve));
    this.#waiting.set(digest, [...(this.#waiting.get(digest) ?? []), wake]);
    const cancel = () => {
      const left = (this.#waiting.get(digest) ?? []).filter((w) => w !== wake);
      if (left.length > 0) this.#waiting.set(digest, left);
      else this.#waiting.delete(digest);
    };
    return { attempt, cancel };
  }

  /**
   * A Writable for the temp file at `path` that publishes its progress under `digest` while it
   * writes, and `settle`, to call once the temp is renamed into place (true) or given up (false).
   */
  writer(digest: string, path: string): { stream: Writable; settle(stored: boolean): void } {
    const file = new TrackedFile(path);
    this.#files.set(digest, file);
    for (const wake of this.#waiting.get(digest) ?? []) wake(file);
    this.#waiting.delete(digest);
    const settle = (stored: boolean) => {
      file.end(stored ? 'done' : 'failed');
      // Another put of the same digest (a concurrent build in this process) may have registered since.
      if (this.#files.get(digest) === file) this.#files.delete(digest);
    };
    const stream = new Writable({
      highWaterMark: 256 * 1024,
      construct: (cb) => void file.open().then(() => cb(), cb),
      write: (chunk: Buffer, _enc, cb) => void file.append(chunk).then(() => cb(), cb),
      final: (cb) =>
        void file
          .flush()
          .then(() => file.close())
          .then(() => cb(), cb),
      destroy: (err, cb) => {
        if (err !== null) settle(false);
        void file.close().then(
          () => cb(err),
          () => cb(err),
        );
      },
    });
    return { stream, settle };
  }
}

class TrackedFile implements GrowingFile {
  written = 0;
  state: 'writing' | 'done' | 'failed' = 'writing';
  #handle: FileHandle | undefined;
  #wake: Array<() => void> = [];
  #held: Buffer[] = [];
  #heldBytes = 0;

  constructor(readonly path: string) {}

  changed(): Promise<void> {
    return this.state === 'writing' ? new Promise((resolve) => this.#wake.push(resolve)) : Promise.resolve();
  }

  async open(): Promise<void> {
    this.#handle = await open(this.path, 'wx');
  }

  /**
   * Takes a chunk; writes once `writeSize` bytes are held (or at `flush`). A network chunk is ~64 KiB, and
   * each write to the file, and each read by a follower, costs the main thread a hand-off to the thread pool
   * (~50 µs on a 2-core VM: --cpu-prof put 322 ms of a synthetic build in FileHandle.write, one per chunk).
   * A follower sees the blob grow in these steps.
   */
  async append(chunk: Buffer): Promise<void> {
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#heldBytes >= writeSize) await this.flush();
  }

  /** Writes what `append` holds. */
  async flush(): Promise<void> {
    let chunks = this.#held;
    const bytes = this.#heldBytes;
    [this.#held, this.#heldBytes] = [[], 0];
    if (bytes === 0) return;
    for (let left = bytes; left > 0;) {
      let { bytesWritten } = await this.#handle!.writev(chunks);
      left -= bytesWritten;
      // A short write: keep what was not written, in order.
      while (left > 0 && bytesWritten > 0) {
        const first = chunks[0]!;
        if (bytesWritten >= first.length) {
          bytesWritten -= first.length;
          chunks = chunks.slice(1);
        } else {
          chunks = [first.subarray(bytesWritten), ...chunks.slice(1)];
          bytesWritten = 0;
        }
      }
    }
    this.written += bytes;
    this.#notify();
  }

  async close(): Promise<void> {
    const h = this.#handle;
    this.#handle = undefined;
    await h?.close();
  }

  end(state: 'done' | 'failed'): void {
    if (this.state !== 'writing') return;
    this.state = state;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }
}

/**
 * Bytes read from a blob at a time, growing or stored: as large as an inflate chunk. The 64 KiB default
 * of file streams made inflating wait for reads (a cached Debian layer: 2.08 s, 1.81 s with these, 4 runs).
 * 1 MiB reads, in builds of one image: cold synthetic 3.94 → 3.81 s, but peak RSS 126–160 MB over a bench's five
 * runs (152 and 160 in two) against 127–144 MB; with two images at once, 63 mark-compacts instead of 18 and slower.
 * A gzip layer's inflater is still fed 1 MiB at a time, gathered from these reads into two reused buffers
 * (layer/gather.ts).
 */
export const readSize = 256 * 1024;

/**
 * Bytes a blob's temp file is written in (see `TrackedFile.append`), as many as a follower reads at a time. The
 * synthetic bench image downloaded, 5 runs each: 3.87 s writing each network chunk, 3.59 s in 256 KiB, 3.49 s in
 * 1 MiB; but with 1 MiB held per download, peak RSS rose by ~10 MB (two volumes at once: 143–158 MB against
 * 134–145 MB in 256 KiB, up to 170 MB once for the synthetic image alone).
 */
export const writeSize = readSize;

/** Options of {@link followBlob}. */
export interface FollowOptions {
  growing: GrowingFiles;
  digest: string;
  /** Where the blob lives once stored. */
  finalPath: string;
  /** Settles when the download (with its retries) has stored the blob, or failed for good. */
  stored: Promise<void>;
  /** The attempt writing the blob now: it is followed from byte 0. */
  first: GrowingFile;
}

/**
 * Thrown by a followed blob whose attempt broke after some of its bytes were read, or that was
 * stored without an attempt having been followed to its end: what was read is not known to be the
 * blob. The reader stops; its caller starts over from the stored blob (read through a verifier).
 */
export class FollowInterruptedError extends LkvolError {
  constructor(readonly digest: string) {
    super('LKVOL_REGISTRY_UNAVAILABLE', `blob ${digest}: its download started again after part of it was unpacked`, {
      hint: 'the build reads it again from the cache; this is a bug if you see it',
    });
    this.name = 'FollowInterruptedError';
  }
}

/**
 * The blob's bytes from the first, read from its temp file as the download writes it. The stream ends
 * only once that attempt has been verified and stored (its digest and size checked by the download),
 * so everything it yielded is the blob; nothing is hashed twice. An attempt that breaks before any
 * byte was read is left for the next; one that breaks later fails the stream with
 * {@link FollowInterruptedError}; a download that fails for good fails it with its own error.
 */
export function followBlob(o: FollowOptions): Readable {
  return Readable.from(follow(o), { objectMode: false, highWaterMark: readSize });
}

async function* follow(o: FollowOptions): AsyncGenerator<Buffer> {
  let pos = 0;
  const stored = o.stored.then(() => 'stored' as const);
  // The reader may stop (its consumer failed) before the download does: its failure is the caller's to report.
  stored.catch(() => undefined);
  let attempt: GrowingFile = o.first;
  for (;;) {
    const handle = await openIfThere(attempt.path);
    if (handle !== undefined) {
      for await (const chunk of readFrom(handle, pos, attempt)) {
        pos += chunk.length;
        yield chunk;
      }
    } else if (attempt.state === 'done') {
      // Stored before we opened its temp: the stored file holds exactly this attempt's verified bytes.
      yield* readFrom(await open(o.finalPath, 'r'), pos, undefined);
      return;
    }
    if (attempt.state === 'done') return;
    if (attempt.state === 'writing') {
      await attempt.changed();
      continue;
    }
    if (pos > 0) throw new FollowInterruptedError(o.digest);
    const wait = o.growing.next(o.digest);
    const next = await Promise.race([stored, wait.attempt]).finally(wait.cancel);
    if (next === 'stored') throw new FollowInterruptedError(o.digest);
    attempt = next;
  }
}

async function openIfThere(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Reads from `pos` and closes the file: to its end, or, for a growing file, until its attempt ends. */
async function* readFrom(handle: FileHandle, pos: number, growing: GrowingFile | undefined): AsyncGenerator<Buffer> {
  try {
    for (let at = pos; ;) {
      const limit = growing === undefined ? Infinity : growing.written;
      if (at < limit) {
        const buf = Buffer.allocUnsafe(Math.min(readSize, limit - at));
        const { bytesRead } = await handle.read(buf, 0, buf.length, at);
        if (bytesRead === 0) return;
        at += bytesRead;
        yield buf.subarray(0, bytesRead);
        continue;
      }
      if (growing === undefined || growing.state !== 'writing') return;
      await growing.changed();
    }
  } finally {
    await handle.close();
  }
}
