// Summarises an extracted tree for lkvol.json: entry count, bytes, a content digest, ownership not applied.
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import type { Digest } from '../digest/index.js';
import type { IntendedMetadata, SkippedEntry } from '../layer/index.js';
import type { OwnershipRecord } from './record.js';
import { entriesPerTurn, yieldTurn } from '../internal/async.js';
import { compareBytes } from '../internal/compare.js';
import { below } from '../internal/path.js';
import { fingerprintLine } from './fingerprint-walk.js';

export interface TreeSummary {
  /** Entries other than directories (regular files, symlinks, hardlinks, others). */
  files: number;
  /** Bytes of regular-file content, each inode counted once. */
  bytes: number;
  /**
   * sha256 over one line per entry in byte order of path: path, type, mode, uid, gid, then the
   * content digest, link target or first name of the inode. Times are left out: they do not change
   * what a container sees, and the tree digest should only move when content or metadata does.
   */
  digest: Digest;
  /** Paths whose owner or mode differs from `intended`, in byte order of path (empty without it). */
  ownership: OwnershipRecord[];
  /** {@link fingerprintLine} of every entry, hashed: what a later build checks to reuse the tree unread. */
  fingerprint: Digest;
}

/** Options of {@link summarizeTree}. */
export interface SummarizeOptions {
  /** What the image meant for each path, when ownership was not applied (`volumeReport(state).intended`). */
  intended?: ReadonlyMap<string, IntendedMetadata> | undefined;
  /**
   * sha256 (hex) of files by path, as extraction wrote them (`volumeReport(state).contentDigests`); others are read.
   */
  contentDigests?: ReadonlyMap<string, string> | undefined;
  /** Device nodes the build could not create (`volumeReport(state).skipped`): counted and hashed as if present. */
  skipped?: readonly SkippedEntry[] | undefined;
  /** Looked at every {@link entriesPerTurn} entries, with a turn of the event loop: a Ctrl-C stops the walk. */
  signal?: AbortSignal | undefined;
}

/**
 * Walks `root` (never following symlinks) and summarises it. File contents come from
 * `contentDigests` where given (extraction hashed them as it wrote them), so only files lkvol did
 * not write are read. Metadata calls are synchronous: tens of thousands of lstat calls through the
 * thread pool would cost ~30 µs each instead of ~1 µs. A directory or file the running user owns
 * but may not read (mode 0, as a rootless build leaves them) is opened for a moment with u+r(x) and
 * given its mode back. Throws the fs error as is, LKVOL_CANCELLED when `opts.signal` aborts.
 */
export async function summarizeTree(root: string, opts: SummarizeOptions = {}): Promise<TreeSummary> {
  const hash = createHash('sha256');
  const fingerprint = createHash('sha256');
  const inodes = new Map<string, string>();
  const summary: TreeSummary = { files: 0, bytes: 0, digest: '' as Digest, ownership: [], fingerprint: '' as Digest };
  // Devices not created, by parent directory: merged into its listing.
  const skipped = new Map<string, Map<string, SkippedEntry>>();
  for (const e of opts.skipped ?? []) {
    const parent = e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : '';
    skipped.set(parent, (skipped.get(parent) ?? new Map()).set(e.path.slice(parent === '' ? 0 : parent.length + 1), e));
  }
  let sinceTurn = 0;
  const walk = async (rel: string): Promise<void> => {
    const onDisk = readNames(below(root, rel));
    // A directory the user may not read (0000, 0333): open it for the walk of its whole subtree.
    if (onDisk === undefined) return withOwnerBits(below(root, rel), 0o500, () => walk(rel));
    const absent = skipped.get(rel);
    const present = absent === undefined ? undefined : new Set(onDisk);
    const names = (
      absent === undefined ? onDisk : [...onDisk, ...[...absent.keys()].filter((n) => !present!.has(n))]
    ).sort(compareBytes);
    for (const name of names) {
      if (++sinceTurn >= entriesPerTurn) {
        sinceTurn = 0;
        await yieldTurn(opts.signal, `read back ${root}`);
      }
      const path = rel === '' ? name : `${rel}/${name}`;
      const device = present === undefined || present.has(name) ? undefined : absent?.get(name);
      if (device !== undefined) {
        // Not on disk (not root): hashed as a root build hashes the node it makes.
        summary.files++;
        hash.update(
          `${path}\0other\0${device.mode.toString(8)} ${device.uid} ${device.gid}\0${makedev(device.devmajor, device.devminor)}\n`,
        );
        continue;
      }
      const st = lstatSync(below(root, path));
      fingerprint.update(fingerprintLine(path, st, st.nlink));
      const want = opts.intended?.get(path);
      noteOwnership(summary, want, path, st);
      // What the image means, not what a rootless build could keep on disk: the same digest as root, or not.
      const mode = st.isSymbolicLink() ? st.mode & 0o7777 : (want?.mode ?? st.mode & 0o7777);
      const meta = `${mode.toString(8)} ${want?.uid ?? st.uid} ${want?.gid ?? st.gid}`;
      if (st.isDirectory()) {
        hash.update(`${path}\0dir\0${meta}\n`);
        await walk(path);
        continue;
      }
      summary.files++;
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? inodes.get(key) : undefined;
      if (first !== undefined) {
        hash.update(`${path}\0link\0${first}\n`);
      } else if (st.isSymbolicLink()) {
        hash.update(`${path}\0symlink\0${meta}\0${readlinkSync(below(root, path))}\n`);
      } else if (st.isFile()) {
        summary.bytes += st.size;
        const digest = opts.contentDigests?.get(path) ?? (await readable(below(root, path), 0o400, fileDigest));
        hash.update(`${path}\0file\0${meta}\0${digest}\n`);
      } else {
        hash.update(`${path}\0other\0${meta}\0${st.rdev}\n`);
      }
      if (st.nlink > 1 && first === undefined) inodes.set(key, path);
    }
  };
  await walk('');
  summary.digest = `sha256:${hash.digest('hex')}` as Digest;
  summary.fingerprint = `sha256:${fingerprint.digest('hex')}` as Digest;
  return summary;
}

/** The names in a directory; undefined when the running user may not read it. */
export function readNames(dir: string): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
    return undefined;
  }
}

/** Linux's `st_rdev` encoding of a device number (glibc's makedev), as lstat reports a node a root build made. */
function makedev(major: number, minor: number): number {
  return Number(
    ((BigInt(major) & 0xfffff000n) << 32n) |
      ((BigInt(major) & 0xfffn) << 8n) |
      ((BigInt(minor) & 0xffffff00n) << 12n) |
      (BigInt(minor) & 0xffn),
  );
}

/** Adds `path` when its file shows another owner or mode than the image gives it. */
function noteOwnership(summary: TreeSummary, want: IntendedMetadata | undefined, path: string, st: Stats): void {
  if (want === undefined) return;
  const mode = st.isSymbolicLink() ? want.mode : st.mode & 0o7777;
  if (want.uid === st.uid && want.gid === st.gid && want.mode === mode) return;
  summary.ownership.push({ path, uid: want.uid, gid: want.gid, mode: want.mode.toString(8).padStart(4, '0') });
}

/** Runs `op(path)`; on EACCES adds `bits` to the owner's permissions for the call and restores the mode. */
export async function readable<T>(path: string, bits: number, op: (path: string) => Promise<T>): Promise<T> {
  try {
    return await op(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
    return withOwnerBits(path, bits, () => op(path));
  }
}

/** Adds `bits` to the owner's permissions of `path` (a real file or directory) while `op` runs. */
export async function withOwnerBits<T>(path: string, bits: number, op: () => Promise<T>): Promise<T> {
  const mode = lstatSync(path).mode & 0o7777;
  chmodSync(path, mode | bits);
  try {
    return await op();
  } finally {
    chmodSync(path, mode);
  }
}

async function fileDigest(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}
