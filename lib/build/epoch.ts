// Dates what lkvol synthesises (directories, specs, lkvol.json, OCI layouts) at SOURCE_DATE_EPOCH.
import { lutimes, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { wrapError } from '../errors.js';

/**
 * Sets atime and mtime of every entry under `root` to `epoch` (seconds), except the contents of the
 * `skip` directories (unpacked image content keeps the times its layers gave it; the directories
 * themselves are synthesised and are dated). Throws LKVOL_IO.
 */
export async function stampTree(root: string, epoch: number, skip: ReadonlySet<string>): Promise<void> {
  const walk = async (dir: string): Promise<void> => {
    if (!skip.has(dir)) {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else await lutimes(p, epoch, epoch);
      }
    }
    await lutimes(dir, epoch, epoch);
  };
  try {
    await walk(root);
  } catch (err) {
    throw wrapError(err, 'LKVOL_IO', `date the output at SOURCE_DATE_EPOCH ${epoch}`);
  }
}
