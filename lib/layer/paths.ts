// Confinement: clean archive names and resolve paths inside the volume root with chroot semantics.
import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { UnsafePathError } from '../errors.js';
import { below } from '../internal/path.js';

/** Symlinks followed while resolving one path before it counts as a loop (Linux MAXSYMLINKS). */
export const maxSymlinkHops = 40;

/** What an error about one entry needs to name: the layer digest and the entry as archived. */
export interface EntryRef {
  layer: string;
  entry: string;
}

/**
 * Cleans an archive name (entry name or hardlink target) into path components relative to the root.
 * A leading `/` is dropped (absolute names are taken relative to the root), `.` and empty components
 * vanish, and `..` removes the previous component. Backslashes and `C:` prefixes are ordinary name
 * bytes on Linux and are kept literally.
 * @throws LKVOL_LAYER_UNSAFE_PATH when the name holds a NUL byte or a `..` would climb above the root.
 */
export function cleanName(name: string, ref: EntryRef, what = 'name'): string[] {
  if (name.includes('\0')) throw new UnsafePathError({ ...ref, reason: `${what} contains a NUL byte` });
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') {
      out.push(part);
      continue;
    }
    if (out.length === 0)
      throw new UnsafePathError({ ...ref, reason: `${what} ${JSON.stringify(name)} escapes the volume root` });
    out.pop();
  }
  return out;
}

/** The part of {@link DirCache} resolution reads and fills (paths.ts stays free of removal logic). */
export interface KnownDirs {
  has(key: string): boolean;
  add(key: string): void;
}

/** Options of {@link resolveInRoot}. */
export interface ResolveOptions {
  /** Follow a symlink in the last component too (false: the last component is the link itself). */
  followFinal: boolean;
  ref: EntryRef;
  /** Directories known to be real (see dir-cache.ts): not lstat-ed again; directories lstat shows are added. */
  known?: KnownDirs | undefined;
}

/**
 * Resolves cleaned components inside `root` the way `SecureJoin` does: each component is lstat-ed,
 * symlinks met on the way are expanded as if `root` were `/` (absolute targets restart at the root,
 * `..` stops at the root), and components that do not exist yet are taken literally. The result is
 * always `root` or a path below it, and every existing directory on the way is a real directory.
 * Components that `known` holds are not lstat-ed: that cache forgets every path lkvol removes or
 * replaces (CVE-2025-47290 came from a cache that did not), and it is race-free only because nothing
 * else writes into the staging tree. Calls are synchronous: entries apply one at a time anyway, and
 * a thread-pool round trip costs ~30x a local lstat.
 * @returns the resolved components relative to `root`.
 * @throws LKVOL_LAYER_UNSAFE_PATH after {@link maxSymlinkHops} symlinks (a loop).
 */
export function resolveInRoot(root: string, components: readonly string[], opts: ResolveOptions): string[] {
  const known = opts.known;
  // Known keys are resolved paths, which hold no '', '.' or '..': a match means nothing to resolve.
  if (known?.has(components.join('/')) === true) return [...components];
  const done: string[] = [];
  const todo = [...components];
  let hops = 0;
  while (todo.length > 0) {
    const part = todo.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const last = todo.length === 0;
    const key = done.length === 0 ? part : `${done.join('/')}/${part}`;
    // No shortcut below a missing component: a later `..` can climb back to existing symlinks.
    const found =
      known?.has(key) === true || (last && !opts.followFinal) ? undefined : lookUp(join(root, ...done, part));
    if (found === 'dir') known?.add(key);
    if (typeof found !== 'object') {
      done.push(part);
      continue;
    }
    const target = found.link;
    if (++hops > maxSymlinkHops) {
      throw new UnsafePathError({
        ...opts.ref,
        reason: `too many levels of symbolic links (more than ${maxSymlinkHops}) at "${[...done, part].join('/')}"`,
      });
    }
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...target.split('/'));
  }
  return done;
}

/** What is at `path`: a symlink (with its target), a directory, something else, or nothing (undefined). */
function lookUp(path: string): { link: string } | 'dir' | 'other' | undefined {
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return { link: readlinkSync(path) };
    return st.isDirectory() ? 'dir' : 'other';
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
}

/** True for a Node system error with the given errno code. */
export function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

/**
 * Joins resolved components onto the root (never climbs: components hold no `.`, `..` or `/`). Concatenated, not
 * `path.join`-ed: that normalises every component again, ~1 µs twice for each entry.
 */
export function hostPath(root: string, components: readonly string[]): string {
  return below(root, components.join('/'));
}

/** lstat that answers undefined when nothing is there (ENOENT, or a parent that is not a directory). */
export function lstatIfExists(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
}
