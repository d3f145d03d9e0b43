// Atomic output: build into a hidden sibling of OUT, then swap it into place; recover from killed builds.
import { chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { wrapError } from '../errors.js';

export interface Staging {
  /** The directory to build into. */
  readonly dir: string;
  /** Makes the staging directory the new OUT; the previous OUT is removed only after the swap. Throws LKVOL_IO. */
  promote(): Promise<void>;
  /** Removes the staging directory (after a failure); never touches OUT. */
  discard(): Promise<void>;
}

const partialTag = 'partial';
const oldTag = 'old';

/**
 * Prepares `.<OUT>.partial-<pid>-<rand>` beside OUT (mode 0700, so a half-built tree with setuid
 * files is not reachable by other users), after cleaning what killed builds left behind.
 * @throws LKVOL_IO when the parent directory cannot be written.
 */
export async function createStaging(out: string): Promise<Staging> {
  const target = resolve(out);
  const parent = dirname(target);
  const name = basename(target);
  const tag = (kind: string) => `.${name}.${kind}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const dir = join(parent, tag(partialTag));
  try {
    await mkdir(parent, { recursive: true });
    await recoverLeftovers(parent, name);
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    throw wrapError(err, 'LKVOL_IO', `prepare output ${out}`, 'check that the parent directory exists and is writable');
  }
  return {
    dir,
    async promote() {
      const old = join(parent, tag(oldTag));
      try {
        await chmod(dir, 0o755);
        const hadOld = await exists(target);
        if (hadOld) await rename(target, old);
        try {
          await rename(dir, target);
        } catch (err) {
          if (hadOld) await rename(old, target);
          throw err;
        }
        if (hadOld) await rm(old, { recursive: true, force: true });
      } catch (err) {
        throw wrapError(err, 'LKVOL_IO', `replace output ${out}`, 'check that OUT is a directory you can write');
      }
    },
    async discard() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A build killed mid-way leaves `.<name>.partial-<pid>-*` (removed here) or, if killed between the
 * two renames of `promote`, `.<name>.old-<pid>-*` with OUT missing (moved back here). Entries of a
 * process that is still alive belong to a concurrent build and are left alone.
 */
async function recoverLeftovers(parent: string, name: string): Promise<void> {
  const prefix = `.${name}.`;
  for (const entry of await readdir(parent)) {
    if (!entry.startsWith(prefix)) continue;
    const m = /^(partial|old)-(\d+)-[0-9a-f]+$/.exec(entry.slice(prefix.length));
    if (m === null || isAlive(Number(m[2]))) continue;
    const path = join(parent, entry);
    if (m[1] === oldTag && !(await exists(join(parent, name)))) await rename(path, join(parent, name));
    else await rm(path, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
