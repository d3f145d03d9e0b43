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
  /** Known directories by parent, so forgetting a tree costs the size of that tree, not of the cache. */
  readonly #children = new Map<string, Set<string>>();

  has(key: string): boolean {
    return this.#dirs.has(key);
  }

  /** Adds `key`, and its parents: a real directory reached through real directories has real ones above it. */
  add(key: string): void {
    for (let k = key; k !== '' && !this.#dirs.has(k); k = parentOf(k)) {
      this.#dirs.add(k);
      const parent = parentOf(k);
      const siblings = this.#children.get(parent);
      if (siblings === undefined) this.#children.set(parent, new Set([k]));
      else siblings.add(k);
    }
  }

  /** Forgets `key` and, when it was a directory, every path below it (the root itself stays: it is never removed). */
  forget(key: string, wasDir: boolean): void {
    if (key !== '') {
      this.#dirs.delete(key);
      this.#children.get(parentOf(key))?.delete(key);
    }
    if (!wasDir) return;
    const below = [...(this.#children.get(key) ?? [])];
    this.#children.delete(key);
    for (let k = below.pop(); k !== undefined; k = below.pop()) {
      this.#dirs.delete(k);
      for (const child of this.#children.get(k) ?? []) below.push(child);
      this.#children.delete(k);
    }
  }
}

function parentOf(key: string): string {
  const slash = key.lastIndexOf('/');
  return slash === -1 ? '' : key.slice(0, slash);
}

/**
 * Removes what is at `rel` (a whole tree for a directory; a symlink itself, never its target) and forgets it in
 * `cache`.
 */
export function removePath(root: string, rel: readonly string[], o: { cache: DirCache; isDir: boolean }): void {
  const { cache, isDir } = o;
  cache.forget(rel.join('/'), isDir);
  rmSync(hostPath(root, rel), { recursive: isDir, force: true });
}
