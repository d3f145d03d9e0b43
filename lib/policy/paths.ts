// Host paths are paths of the booted system, not of the build host: normalised lexically, never resolved here.
import { posix } from 'node:path';

/** `path` with `.`, `..`, repeated and trailing slashes resolved lexically; `dotdot`: it had a `..` segment. */
export function normalizeHostPath(path: string): { path: string; dotdot: boolean } {
  const dotdot = path.split('/').includes('..');
  const n = posix.normalize(path);
  return { path: n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n, dotdot };
}

/** True when `path` is `base` or lies below it, component-wise (`/var/lib/app2` is not below `/var/lib/app`). */
export function isUnder(path: string, base: string): boolean {
  return path === base || base === '/' || path.startsWith(`${base}/`);
}
