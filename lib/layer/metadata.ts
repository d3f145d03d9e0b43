// Ownership, modes and times: through file descriptors or l* calls only, never through a symlink.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  futimesSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  openSync,
  utimesSync,
} from 'node:fs';
import { wrapError } from '../errors.js';
import { effectiveIds } from '../internal/process.js';
import type { LayerContext } from './context.js';
import type { LayerEntry } from './entries.js';
import { hostPath, isErrno, resolveInRoot } from './paths.js';
import { applyXattrs } from './xattrs.js';

const setIdBits = 0o6000;

/** Flags that open an existing directory without following a final symlink. */
const openDirFlags = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * The mode to apply. Without ownership the file would belong to the invoking user, so setuid and
 * setgid bits on regular files are dropped: they would grant that user's rights, not the image's.
 * Without ownership (not root) a directory also stays u+rwx until `finishExtraction`, so later
 * entries and layers can still write into a 0555 or 0000 directory (umoci's unpriv.Wrap).
 */
function effectiveMode(ctx: LayerContext, entry: LayerEntry): number {
  if (ctx.applyOwnership) return entry.mode;
  if (entry.kind === 'file') return entry.mode & ~setIdBits;
  return entry.kind === 'dir' ? entry.mode | 0o700 : entry.mode;
}

/**
 * How a new file is created so that as few calls as possible follow: the mode to open it with, and which calls remain.
 */
export interface CreationMetadata {
  /** The mode for open(2): the final one when the umask leaves it alone, else 0600 and a chmod after. */
  createMode: number;
  chown: boolean;
  chmod: boolean;
}

/** A node lkvol made for an entry, open: its descriptor, and the entry. */
export interface OpenEntry {
  fd: number;
  entry: LayerEntry;
}

/**
 * What creating `entry` as a new file needs. A file lkvol creates already belongs to lkvol's own uid
 * and gid, unless a setgid directory of the volume hands down its group: then no chown is needed
 * (most image files are root's, and lkvol runs as root to apply owners). open(2) gives the mode
 * minus the umask and no setuid/setgid/sticky bits: a mode it cannot give, or one chown would
 * clear, gets a chmod after the chown. Each call saved is one of four or five per file.
 */
export function creationMetadata(ctx: LayerContext, entry: LayerEntry): CreationMetadata {
  const mode = effectiveMode(ctx, entry);
  const chown = needsChown(ctx, entry);
  const chmod = ctx.volume.exactModes === false || (mode & 0o7000) !== 0 || (mode & ctx.umask) !== 0;
  return { createMode: chmod ? 0o600 : mode, chown, chmod };
}

/**
 * Checks, on the volume's first new file, what {@link creationMetadata} assumes: that open(2) gave
 * the mode minus the umask and lkvol's own group. A default ACL above OUT overrides the umask, and a
 * `grpid` mount gives files their directory's group; either way, from then on every file is chmod-ed
 * and chown-ed, and this one is fixed at once. Returns what is left to do for this file.
 */
export function probeCreation(
  ctx: LayerContext,
  { fd, entry }: OpenEntry,
  created: CreationMetadata,
): CreationMetadata {
  if (ctx.volume.exactModes !== undefined) return created;
  const st = fstatSync(fd);
  // NB: until this first file, every node was chown-ed and chmod-ed (see ownerUncertain, dirNeedsChmod).
  if (created.chmod) return created;
  ctx.volume.exactModes = (st.mode & 0o7777) === created.createMode;
  if (st.gid !== ownIds.gid) ctx.volume.setgidDirs = true;
  return creationMetadata(ctx, entry);
}

/** Whether a node lkvol just created (file, symlink, device) must be chown-ed to get `entry`'s owner. */
function needsChown(ctx: LayerContext, entry: LayerEntry): boolean {
  return ctx.applyOwnership && (ownerUncertain(ctx) || entry.uid !== ownIds.uid || entry.gid !== ownIds.gid);
}

/** Whether a node lkvol creates may not belong to lkvol's own uid and gid (or it is not known yet: no file probed). */
export function ownerUncertain(ctx: LayerContext): boolean {
  return ctx.volume.setgidDirs || ctx.volume.exactModes === undefined;
}

/** lkvol's own uid and gid: the owner of every file it creates outside setgid directories. */
const ownIds = effectiveIds();

/**
 * Whether a directory made with mkdir(path, `mode`) needs a chmod to have exactly `mode`: when the
 * umask takes bits away, or a setgid directory of the volume may have handed its setgid bit down.
 */
export function dirNeedsChmod(ctx: LayerContext, mode: number): boolean {
  return ctx.volume.setgidDirs || ctx.volume.exactModes !== true || (mode & ctx.umask) !== 0;
}

/**
 * The mode to make `entry`'s directory with: its final one when that keeps the directory open to lkvol
 * while the layer writes below it (u+rwx) and mkdir can give it (no setuid, setgid or sticky bit: a
 * setgid bit now would be handed down to what the layer creates below); else 0700, set right at the
 * end of the layer.
 */
export function dirCreateMode(ctx: LayerContext, entry: LayerEntry): number {
  const mode = effectiveMode(ctx, entry);
  return (mode & 0o700) === 0o700 && (mode & 0o7000) === 0 ? mode : 0o700;
}

/**
 * Sets owner, then mode, then times on an open file. chown clears setuid/setgid, so the mode comes
 * after it (umoci `restoreMetadata`, containerd "call lchmod after lchown"). `created` skips what
 * creating the file already did (see {@link creationMetadata}).
 */
export function applyFdMetadata(ctx: LayerContext, { fd, entry }: OpenEntry, created?: CreationMetadata): void {
  if (created?.chown ?? ctx.applyOwnership) fchownSync(fd, entry.uid, entry.gid);
  if (created?.chmod ?? true) fchmodSync(fd, effectiveMode(ctx, entry));
  futimesSync(fd, entry.mtime, entry.mtime);
}

/** Owner and times of a symlink itself (Linux symlinks have no mode of their own). */
export function applySymlinkMetadata(ctx: LayerContext, path: string, entry: LayerEntry): void {
  if (needsChown(ctx, entry)) lchownSync(path, entry.uid, entry.gid);
  lutimesSync(path, entry.mtime, entry.mtime);
}

/**
 * Records the times of directory `rel` before this layer first adds or removes one of its children,
 * so they can be restored: otherwise every directory a layer touches would end up dated "now" and
 * the volume would not be reproducible. A directory the layer creates implicitly gets `created`.
 */
export function noteDirChange(ctx: LayerContext, rel: readonly string[], created?: number): void {
  const key = rel.join('/');
  // A directory entry of the layer gets its own times at the end (applyDirMetadata), whatever changes below it.
  if (ctx.touched.has(key) || ctx.dirs.has(key)) return;
  if (created !== undefined) {
    ctx.touched.set(key, { atime: created, mtime: created });
    return;
  }
  const st = lstatSync(hostPath(ctx.root, rel), { throwIfNoEntry: false });
  if (st?.isDirectory() === true) ctx.touched.set(key, { atime: st.atimeMs / 1000, mtime: st.mtimeMs / 1000 });
}

/**
 * Applies, at the end of the layer, the times of directories whose children changed and the
 * metadata of every directory entry (entries win). Each path is resolved again and skipped when it
 * is no longer a real directory reached through real directories: a later entry of the layer may
 * have replaced it, or one of its parents, with a symlink.
 */
export function applyDirMetadata(ctx: LayerContext): void {
  for (const [key, times] of ctx.touched) {
    if (ctx.dirs.has(key)) continue;
    hostFault(ctx, key, () =>
      withDir(ctx, key, {
        entry: key,
        viaFd: (fd) => futimesSync(fd, times.atime, times.mtime),
        viaPath: (path) => utimesSync(path, times.atime, times.mtime),
      }),
    );
  }
  for (const [key, entry] of ctx.dirs) {
    // Files created below a setgid directory take its group: from now on they are always chown-ed.
    if ((entry.mode & 0o2000) !== 0) ctx.volume.setgidDirs = true;
    const made = madeDirMetadata(ctx, key, entry);
    const path = hostFault(ctx, entry.name, () =>
      withDir(ctx, key, {
        entry: entry.name,
        viaFd: (fd) => applyFdMetadata(ctx, { fd, entry }, made),
        viaPath: (p) => applyDirPathMetadata(ctx, p, entry),
      }),
    );
    if (path === undefined) continue;
    // After chown; a directory merged over an older one loses the xattrs the new entry does not carry.
    const set = applyXattrs(path, entry, {
      policy: ctx.xattrPolicy,
      layer: ctx.layer,
      replace: made === undefined && ctx.volume.xattrsSet,
      onDropped: (e) => ctx.xattrEntries.push(e.name),
    });
    if (set) ctx.volume.xattrsSet = true;
    if (!ctx.applyOwnership && (entry.mode & 0o700) !== 0o700) ctx.volume.lockedDirs.add(key);
  }
}

/**
 * What is left to set on a directory this layer made (owner and mode only where mkdir did not give them, as
 * for files: {@link creationMetadata}); undefined for one it merged with, which gets everything.
 */
function madeDirMetadata(ctx: LayerContext, key: string, entry: LayerEntry): CreationMetadata | undefined {
  const createMode = ctx.madeDirs.get(key);
  if (createMode === undefined) return undefined;
  const chmod = createMode !== effectiveMode(ctx, entry) || dirNeedsChmod(ctx, createMode);
  return { createMode, chown: needsChown(ctx, entry), chmod };
}

/**
 * Runs `op` on directory `entry`; a host error (EPERM in a user namespace, EMFILE) is LKVOL_IO naming it, not a corrupt
 * layer.
 */
function hostFault<T>(ctx: LayerContext, entry: string, op: () => T): T {
  try {
    return op();
  } catch (err) {
    throw wrapError(err, 'LKVOL_IO', {
      message: `layer ${ctx.layer}: entry ${JSON.stringify(entry || '.')}: set directory metadata`,
      hint: 'check permissions of the output directory (owners cannot be set inside some user namespaces)',
    });
  }
}

/**
 * Runs `viaFd` on directory `key` opened without following symlinks, or `viaPath` when it may not
 * be opened (mode 0 as non-root); skips it when it is gone or not reached through real directories.
 * `entry` names it in messages.
 * @returns the directory's path when it was handled, else undefined.
 */
function withDir(
  ctx: LayerContext,
  key: string,
  { entry, viaFd, viaPath }: { entry: string; viaFd: (fd: number) => void; viaPath: (path: string) => void },
): string | undefined {
  const rel = key === '' ? [] : key.split('/');
  const again = resolveInRoot(ctx.root, rel, {
    followFinal: false,
    ref: { layer: ctx.layer, entry },
    known: ctx.volume.realDirs,
  });
  if (again.join('/') !== key) return undefined;
  const path = hostPath(ctx.root, rel);
  const fd = openDir(path);
  // Path calls follow symlinks, so only on what lstat shows to be a real directory. Safe because
  // the parents were just re-resolved and nothing else writes the tree.
  if (fd === 'unreadable') {
    if (!lstatSync(path).isDirectory()) return undefined;
    viaPath(path);
    return path;
  }
  if (fd === undefined) return undefined;
  try {
    viaFd(fd);
  } finally {
    closeSync(fd);
  }
  return path;
}

function applyDirPathMetadata(ctx: LayerContext, path: string, entry: LayerEntry): void {
  if (ctx.applyOwnership) lchownSync(path, entry.uid, entry.gid);
  chmodSync(path, effectiveMode(ctx, entry));
  utimesSync(path, entry.mtime, entry.mtime);
}

/** Opens a directory for metadata calls; undefined when the path is gone or no longer a directory. */
function openDir(path: string): number | 'unreadable' | undefined {
  try {
    return openSync(path, openDirFlags);
  } catch (err) {
    if (isErrno(err, 'EACCES')) return 'unreadable';
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'ELOOP')) return undefined;
    throw err;
  }
}
