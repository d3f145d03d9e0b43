// Removes a directory tree even when its own modes forbid it (rootless builds unpack 0555 and 0000 dirs).
import { chmod, lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * `rm -rf path`. As an ordinary user, a directory without u+wx cannot be emptied, so on EACCES/EPERM
 * every directory below `path` (never following symlinks) is made u+rwx and the removal is retried.
 * Errors other than a missing path are thrown as they are.
 */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
    await openDirs(path);
    await rm(path, { recursive: true, force: true });
  }
}

/**
 * Node's `rm` rejects at its first error while its removals elsewhere in the tree go on, so entries vanish
 * while this walks: a missing one is skipped, not an error. Nothing is created meanwhile, so once this returns
 * every directory left is u+rwx.
 */
async function openDirs(dir: string): Promise<void> {
  try {
    const st = await lstat(dir);
    if (!st.isDirectory()) return;
    if ((st.mode & 0o700) !== 0o700) await chmod(dir, (st.mode & 0o7777) | 0o700);
    for (const name of await readdir(dir)) await openDirs(join(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
