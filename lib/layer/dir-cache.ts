// Directories of a volume known to be real, so an entry need not lstat every parent again.
import { rmSync } from 'node:fs';
import { hostPath } from './paths.js';

/**
 * Resolved paths (components joined by `/`, the root is `''`) that are real directories reached
 * through real directories. A path joins when lkvol creates the directory or lstat shows one, and
 * leaves, with everything below it, whenever anything at that path is removed or replaced (every
 * removal goes through {@link removePath}); nothing else writes the staging tree, so the set cannot
 * go stale. (A stale resolution cache is how containerd wrote through a symlink: CVE-2025-47290.)
 */
export class DirCache {
  readonly #dirs = new Set<string>(['']);

  has(key: string): boolean {
    return this.#dirs.has(key);
  }

  add(key: string): void {
    this.#dirs.add(key);
  }

  /** Forgets `key` and, when it was a directory, every path below it. */
  forget(key: string, wasDir: boolean): void {
    this.#dirs.delete(key);
    if (!wasDir) return;
    const prefix = key === '' ? '' : `${key}/`;
    for (const k of this.#dirs) if (k.startsWith(prefix) && k !== '') this.#dirs.delete(k);
    if (key === '') this.#dirs.add('');
  }
}

/** Removes what is at `rel` (a whole tree for a directory; a symlink itself, never its target) and forgets it in `cache`. */
export function removePath(root: string, cache: DirCache, rel: readonly string[], isDir: boolean): void {
  cache.forget(rel.join('/'), isDir);
  rmSync(hostPath(root, rel), { recursive: isDir, force: true });
}
