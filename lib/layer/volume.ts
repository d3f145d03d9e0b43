// After the last layer of a volume: restore restrictive directory modes; report what was not reproduced.
import { chmodSync, lstatSync } from 'node:fs';
import { wrapError } from '../errors.js';
import type { ExtractState, IntendedMetadata, VolumeBookkeeping } from './context.js';
import { hostPath, resolveInRoot } from './paths.js';
import type { SkippedEntry } from './special.js';

/** What the image meant that the volume's files do not show. */
export interface VolumeReport {
  /**
   * Only when ownership was not applied: owner and permission bits the image gives each path it
   * created (the latest creation wins; paths removed later may remain, so look up paths on disk).
   */
  intended: ReadonlyMap<string, IntendedMetadata>;
  /** Devices and FIFOs of the image that are not on disk, sorted by path (byte order). */
  skipped: SkippedEntry[];
  /** sha256 (hex) of each regular file as written, by path (stale paths may remain: look up paths on disk). */
  contentDigests: ReadonlyMap<string, string>;
}

/**
 * Finishes a volume after its last layer. Without ownership, directories whose archived mode lacks
 * u+rwx were kept u+rwx while layers applied (so a 0555 directory could still receive a later
 * layer's files); they get their archived mode now, deepest first, so a 0000 parent does not hide
 * its children. Each path is re-resolved and skipped unless it is still a real directory.
 * @throws LKVOL_IO when a chmod fails.
 */
export function finishExtraction(state: ExtractState, opts: { root: string }): void {
  const s = state as VolumeBookkeeping;
  const keys = [...s.lockedDirs].sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : 1));
  for (const key of keys) {
    const mode = s.intended.get(key)?.mode;
    if (mode === undefined || (mode & 0o700) === 0o700) continue;
    const rel = key === '' ? [] : key.split('/');
    const again = resolveInRoot(opts.root, rel, {
      followFinal: false,
      ref: { layer: 'finish', entry: key },
      known: s.realDirs,
    });
    const path = hostPath(opts.root, rel);
    try {
      if (again.join('/') !== key || lstatSync(path, { throwIfNoEntry: false })?.isDirectory() !== true) continue;
      chmodSync(path, mode);
    } catch (err) {
      throw wrapError(err, 'LKVOL_IO', `restore mode of directory ${JSON.stringify(key)}`);
    }
  }
  s.lockedDirs.clear();
}

/** What {@link finishExtraction}'s caller records: intended ownership and skipped devices. */
export function volumeReport(state: ExtractState): VolumeReport {
  const s = state as VolumeBookkeeping;
  const skipped = [...s.skipped.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return { intended: s.intended, skipped, contentDigests: s.contentDigests };
}

function depth(key: string): number {
  return key === '' ? 0 : key.split('/').length;
}
