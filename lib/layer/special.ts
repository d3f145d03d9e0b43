// Device nodes and FIFOs: made with coreutils mknod (Node has no mknod), only where the kernel permits.
import { execFileSync } from 'node:child_process';
import { chmodSync, lchownSync, lstatSync, lutimesSync } from 'node:fs';
import type { LayerEntry } from './entries.js';

/** A device or FIFO of the image that is not on disk (recorded in lkvol.json by the build). */
export interface SkippedEntry {
  /** Resolved path below the root, `/`-separated. */
  path: string;
  kind: 'char' | 'block' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  devmajor: number;
  devminor: number;
  /** Whole seconds since the epoch, as the layer dates it (a tar output writes it). */
  mtime: number;
}

/** Options of {@link createSpecial}. */
export interface CreateSpecialOptions {
  /** Running as root: devices may be created and owners applied. */
  privileged: boolean;
}

/**
 * Creates a FIFO (always permitted) or a device node (only when privileged) at `path`, whose parent
 * is a real directory inside the root and where nothing exists any more. mknod never follows or
 * replaces an existing name, so it cannot write through a symlink. Then owner, mode (after chown,
 * which clears setuid) and times, as for files.
 * @returns false when the node was not created: a device without privilege, or a kernel that
 *   refuses mknod (EPERM in a user namespace); the caller records it. Throws what mknod reports otherwise.
 */
export function createSpecial(path: string, entry: LayerEntry, o: CreateSpecialOptions): boolean {
  if (entry.kind !== 'fifo' && !o.privileged) return false;
  const args =
    entry.kind === 'fifo'
      ? [path, 'p']
      : [path, entry.kind === 'char' ? 'c' : 'b', String(entry.devmajor), String(entry.devminor)];
  try {
    // An absolute program path would differ between distributions; PATH is the host's, never the image's.
    // LC_ALL=C through env(1): the refusal is recognised by mknod's message, which locales translate.
    execFileSync('env', ['LC_ALL=C', 'mknod', '-m', '0600', '--', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '');
    if (/Operation not permitted/.test(stderr)) return false;
    throw new Error(`mknod ${entry.kind}: ${stderr.trim() || (err as Error).message}`, { cause: err });
  }
  if (!lstatSync(path).isFIFO() && entry.kind === 'fifo') throw new Error('mknod did not create a FIFO');
  if (o.privileged) lchownSync(path, entry.uid, entry.gid);
  // The node was just created by name under a resolved parent, so chmod (which follows links) reaches it.
  chmodSync(path, o.privileged ? entry.mode : entry.mode & ~0o6000);
  lutimesSync(path, entry.mtime, entry.mtime);
  return true;
}

/** The record of a device or FIFO left out. */
export function skippedEntry(path: string, entry: LayerEntry): SkippedEntry {
  const kind = entry.kind === 'char' || entry.kind === 'block' ? entry.kind : 'fifo';
  return {
    path,
    kind,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    devmajor: entry.devmajor,
    devminor: entry.devminor,
    mtime: Math.floor(entry.mtime),
  };
}
