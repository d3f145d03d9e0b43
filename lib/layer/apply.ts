// Applies one layer entry inside the root: whiteouts, then create-or-replace of dirs, files and links.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { LkvolError, UnsafePathError } from '../errors.js';
import { removePath } from './dir-cache.js';
import { forgetSkipped, markWritten, noteIntended, type LayerContext } from './context.js';
import type { LayerEntry } from './entries.js';
import { limitError } from './limits.js';
import {
  applyFdMetadata,
  applySymlinkMetadata,
  creationMetadata,
  dirCreateMode,
  dirNeedsChmod,
  noteDirChange,
  ownerUncertain,
  probeCreation,
} from './metadata.js';
import { cleanName, hostPath, isErrno, lstatIfExists, resolveInRoot, type EntryRef } from './paths.js';
import { createSpecial, skippedEntry } from './special.js';
import { applyOpaque, applyWhiteout, classifyWhiteout, isAufsMetadata } from './whiteout.js';
import { applyXattrs } from './xattrs.js';

/** Creates a new file and fails on anything already there, a symlink included. */
const createFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Applies one entry. `body` yields the file's data (read only for regular files).
 * @throws LKVOL_LAYER_UNSAFE_PATH for names or link targets that leave the root, a non-directory
 *   root entry, and hardlinks whose target is missing or a directory.
 * @throws LKVOL_LAYER_LIMIT when the name is too deep or the layer writes more than `maxBytes`.
 * @throws LKVOL_LAYER_CORRUPT when a parent path exists but is not a directory.
 */
export async function applyEntry(ctx: LayerContext, entry: LayerEntry, body: AsyncIterable<Uint8Array>): Promise<void> {
  const ref: EntryRef = { layer: ctx.layer, entry: entry.name };
  const parts = cleanName(entry.name, ref);
  if (parts.length > ctx.caps.depth.remaining)
    throw limitError(ctx.layer, ctx.caps.depth, `depth ${parts.length} of entry ${JSON.stringify(entry.name)}`);
  if (parts.length === 0) return applyRootEntry(ctx, entry, ref);
  const dir = parts.slice(0, -1);
  const base = parts[parts.length - 1] as string;
  const whiteout = classifyWhiteout(base, ref);
  if (whiteout.kind === 'aufs' || isAufsMetadata(dir)) {
    ctx.skippedAufs.push(entry.name);
    return;
  }
  if (whiteout.kind === 'opaque') return applyOpaque(ctx, dir, ref);
  if (whiteout.kind === 'whiteout') return applyWhiteout(ctx, dir, { target: whiteout.target, ref });
  const parent = resolveInRoot(ctx.root, dir, { followFinal: true, ref, known: ctx.volume.realDirs });
  ensureDirs(ctx, parent, entry, ref);
  noteDirChange(ctx, parent);
  const rel = [...parent, base];
  await createEntry(ctx, entry, { rel, body, ref });
  markWritten(ctx, rel);
}

/** `.`, `./` or `/`: metadata for the root itself, which is never replaced (umoci CVE-2021-29136). */
function applyRootEntry(ctx: LayerContext, entry: LayerEntry, ref: EntryRef): void {
  if (entry.kind !== 'dir')
    throw new UnsafePathError({ ...ref, reason: `the volume root can only be a directory, not a ${entry.kind}` });
  ctx.dirs.set('', entry);
  noteIntended(ctx, [], entry);
}

/** Creates `entry` at `rel` (its parents in place), with `body` as a file's content; `ref` names it in errors. */
async function createEntry(
  ctx: LayerContext,
  entry: LayerEntry,
  { rel, body, ref }: { rel: string[]; body: AsyncIterable<Uint8Array>; ref: EntryRef },
): Promise<void> {
  const path = hostPath(ctx.root, rel);
  switch (entry.kind) {
    case 'dir':
      makeDir(ctx, rel, { path, mode: dirCreateMode(ctx, entry) });
      ctx.volume.realDirs.add(rel.join('/'));
      ctx.dirs.set(rel.join('/'), entry);
      return noteIntended(ctx, rel, entry);
    case 'file':
      await writeFile(ctx, entry, rel, body);
      return noteIntended(ctx, rel, entry);
    case 'symlink':
      if (entry.linkname.includes('\0'))
        throw new UnsafePathError({ ...ref, reason: 'symlink target contains a NUL byte' });
      createAt(ctx, rel, () => symlinkSync(entry.linkname, path));
      dropXattrs(ctx, entry);
      applySymlinkMetadata(ctx, path, entry);
      return noteIntended(ctx, rel, entry);
    case 'link':
      return writeHardlink(ctx, entry, rel, ref);
    default:
      return await writeSpecial(ctx, entry, rel);
  }
}

/** xattrs of entries that cannot hold them (user.* is refused on symlinks, devices and FIFOs). */
function dropXattrs(ctx: LayerContext, entry: LayerEntry): void {
  if (entry.xattrs.length > 0 || entry.foreignXattrs > 0) ctx.xattrEntries.push(entry.name);
}

/** A device or FIFO replaces what is at `rel`; when it may not be created it is recorded instead. */
async function writeSpecial(ctx: LayerContext, entry: LayerEntry, rel: string[]): Promise<void> {
  clearFor(ctx, rel, false);
  dropXattrs(ctx, entry);
  const key = rel.join('/');
  if (await createSpecial(hostPath(ctx.root, rel), entry, { privileged: ctx.applyOwnership, nodes: ctx.nodes }))
    return noteIntended(ctx, rel, entry);
  ctx.skippedDevices.push(entry.name);
  ctx.volume.skipped.set(key, skippedEntry(key, entry));
}

/**
 * Makes room at `path` (whose parents are real directories in the root): a directory arriving on a
 * directory merges; anything else replaces what is there, removing a whole tree if need be. A
 * symlink is removed as a link, never followed.
 */
function clearFor(ctx: LayerContext, rel: readonly string[], incomingDir: boolean): 'absent' | 'merge' {
  const path = hostPath(ctx.root, rel);
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (incomingDir && st?.isDirectory() === true) return 'merge';
  // A device that could not be created is replaced too, though nothing of it is on disk.
  forgetSkipped(ctx, rel);
  if (st === undefined) return 'absent';
  removePath(ctx.root, rel, { cache: ctx.volume.realDirs, isDir: st.isDirectory() });
  return 'absent';
}

/**
 * Runs `create` (which fails with EEXIST on anything already at `rel`, a symlink included, and
 * never follows one); when something is there, removes it and creates again. Most entries are new,
 * so this saves an lstat for each of them.
 */
function createAt<T>(ctx: LayerContext, rel: readonly string[], create: () => T): T {
  forgetSkipped(ctx, rel);
  try {
    return create();
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
  clearFor(ctx, rel, false);
  return create();
}

/** A directory at `rel`: made with `mode`, or merged with one that is there; anything else there is replaced. */
function makeDir(ctx: LayerContext, rel: readonly string[], { path, mode }: { path: string; mode: number }): void {
  try {
    mkdirSync(path, mode);
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
    if (clearFor(ctx, rel, true) === 'merge') return;
    mkdirSync(path, mode);
  }
  ctx.madeDirs.set(rel.join('/'), mode);
}

/** Streams the entry's data into a new file (never through a symlink), then sets its metadata by fd. */
async function writeFile(
  ctx: LayerContext,
  entry: LayerEntry,
  rel: readonly string[],
  body: AsyncIterable<Uint8Array>,
): Promise<void> {
  if (ctx.bytes + entry.size > ctx.caps.bytes.remaining) {
    throw limitError(
      ctx.layer,
      ctx.caps.bytes,
      `file content (${entry.size} more bytes for ${JSON.stringify(entry.name)})`,
    );
  }
  ctx.bytes += entry.size;
  const path = hostPath(ctx.root, rel);
  const created = creationMetadata(ctx, entry);
  const fd = createAt(ctx, rel, () => openSync(path, createFlags, created.createMode));
  // Hashed as written, so the build's summary never reads the tree back.
  const hash = createHash('sha256');
  try {
    for await (const chunk of body) {
      writeAll(fd, chunk);
      hash.update(chunk);
    }
    ctx.volume.contentDigests.set(rel.join('/'), hash.digest('hex'));
    const node = { fd, entry };
    applyFdMetadata(ctx, node, probeCreation(ctx, node, created));
    // After the last write and after chown: both clear security.capability.
    const set = applyXattrs(path, entry, {
      policy: ctx.xattrPolicy,
      layer: ctx.layer,
      replace: false,
      onDropped: (e) => ctx.xattrEntries.push(e.name),
    });
    if (set) ctx.volume.xattrsSet = true;
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, chunk: Uint8Array): void {
  for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done);
}

/**
 * A hardlink's target is a name relative to the root (absolute names too, as moby and kaniko
 * write them). Its parent is resolved inside the root; its last component is not followed, so a
 * link to a symlink is a second name of the symlink. Hardlinks carry no metadata of their own.
 */
function writeHardlink(ctx: LayerContext, entry: LayerEntry, rel: string[], ref: EntryRef): void {
  const parts = cleanName(entry.linkname, ref, 'hardlink target');
  if (parts.length === 0) throw new UnsafePathError({ ...ref, reason: 'hardlink target is the volume root' });
  const targetParent = resolveInRoot(ctx.root, parts.slice(0, -1), {
    followFinal: true,
    ref,
    known: ctx.volume.realDirs,
  });
  const target = [...targetParent, parts[parts.length - 1] as string];
  const targetPath = hostPath(ctx.root, target);
  const st = lstatIfExists(targetPath);
  const shown = JSON.stringify(entry.linkname);
  if (st === undefined)
    throw new UnsafePathError({ ...ref, reason: `hardlink target ${shown} does not exist in the volume` });
  if (st.isDirectory()) throw new UnsafePathError({ ...ref, reason: `hardlink target ${shown} is a directory` });
  if (target.join('/') === rel.join('/')) return;
  createAt(ctx, rel, () => linkSync(targetPath, hostPath(ctx.root, rel)));
  const digest = ctx.volume.contentDigests.get(target.join('/'));
  if (digest !== undefined) ctx.volume.contentDigests.set(rel.join('/'), digest);
  noteIntended(ctx, rel, ctx.volume.intended.get(target.join('/')));
}

/**
 * Creates the missing directories of an already resolved parent path with mode 0755 (chmod-ed,
 * so the umask does not leak in) and the entry's mtime. Existing directories keep their attributes.
 * @throws LKVOL_LAYER_CORRUPT when a component exists and is not a directory.
 */
function ensureDirs(ctx: LayerContext, parent: readonly string[], entry: LayerEntry, ref: EntryRef): void {
  const known = ctx.volume.realDirs;
  if (known.has(parent.join('/'))) return;
  for (let i = 1; i <= parent.length; i++) {
    const key = parent.slice(0, i).join('/');
    if (known.has(key)) continue;
    const path = hostPath(ctx.root, parent.slice(0, i));
    const st = lstatIfExists(path);
    if (st?.isDirectory() === true) {
      known.add(key);
      continue;
    }
    if (st !== undefined) {
      throw new LkvolError(
        'LKVOL_LAYER_CORRUPT',
        `layer ${ref.layer}: entry ${JSON.stringify(ref.entry)}: parent "${parent.slice(0, i).join('/')}" is not a directory`,
        {
          hint: 'the layer writes below a file; rebuild the image',
        },
      );
    }
    noteDirChange(ctx, parent.slice(0, i - 1));
    mkdirSync(path, 0o755);
    // Implicit parents are root's (containerd, moby); below a setgid directory mkdir gives its group and bit.
    if (ctx.applyOwnership && ownerUncertain(ctx)) chownSync(path, 0, 0);
    if (dirNeedsChmod(ctx, 0o755)) chmodSync(path, 0o755);
    ctx.madeDirs.set(key, 0o755);
    known.add(key);
    noteIntended(ctx, parent.slice(0, i), { uid: 0, gid: 0, mode: 0o755 });
    // NB: dated like the entry that needed it, not "now", so the volume stays reproducible.
    noteDirChange(ctx, parent.slice(0, i), entry.mtime);
  }
}
