// Atomic output: build into a hidden sibling of OUT, then swap it into place; recover from killed builds.
import { chmod, lstat, mkdir, readdir, rename } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { wrapError, type LkvolError } from '../errors.js';
import { isProcessAlive, processId } from '../internal/process.js';
import { removeTree } from '../internal/remove.js';

export interface Staging {
  /** The directory to build into. */
  readonly dir: string;
  /** Makes the staging directory the new OUT; the previous OUT is removed only after the swap. Throws LKVOL_IO. */
  promote(): Promise<void>;
  /** Removes the staging directory (after a failure); never touches OUT. */
  discard(): Promise<void>;
}

/** Staging and moved-aside directories of builds running in this process (their pid is ours, yet they are alive). */
const live = new Set<string>();
/** A concurrent build can take OUT between our two renames; each round of that race has a winner, so this is plenty. */
const maxSwapAttempts = 8;

/**
 * Prepares `.<OUT>.partial-<pid>-<rand>` beside OUT (mode 0700, so a half-built tree with setuid
 * files is not reachable by other users), after {@link recoverOutput}.
 * @throws LKVOL_IO when the parent directory cannot be written.
 */
export async function createStaging(out: string): Promise<Staging> {
  const target = resolve(out);
  const aside = (kind: string) =>
    join(dirname(target), `.${basename(target)}.${kind}-${processId()}-${randomBytes(4).toString('hex')}`);
  const dir = aside('partial');
  try {
    await mkdir(dirname(target), { recursive: true });
    await recoverOutput(target);
    // Marked live before it exists: a concurrent recovery in this process must never see it unmarked.
    live.add(dir);
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    live.delete(dir);
    throw wrapError(err, 'LKVOL_IO', {
      message: `prepare output ${out}`,
      hint: 'check that the parent directory exists and is writable',
    });
  }
  return {
    dir,
    async promote() {
      try {
        await chmod(dir, 0o755);
        const moved = await swapIn(dir, target, () => aside('old'));
        live.delete(dir);
        // OUT is already the new tree: failing to delete the old one must not fail the build;
        // the next build's recovery removes what is left.
        for (const old of moved)
          await removeTree(old)
            .catch(() => {})
            .finally(() => live.delete(old));
      } catch (err) {
        throw wrapError(err, 'LKVOL_IO', {
          message: `replace output ${out}`,
          hint: 'check that OUT is a directory you can write',
        });
      }
    },
    async discard() {
      await removeTree(dir);
      live.delete(dir);
    },
  };
}

/** A file written beside OUT and renamed onto it at the end (tar output). */
export interface FileStaging {
  /** `.<OUT>.partial-<pid>-<rand>`: recovery removes it once its build is gone. */
  readonly path: string;
  /** Renames the file onto OUT. Throws LKVOL_IO. */
  promote(): Promise<void>;
  /** Removes the file (after a failure). */
  discard(): Promise<void>;
}

/**
 * Names the temporary file of a tar OUT; the caller creates it (exclusively). The parent exists
 * (see {@link createStaging}).
 */
export function createFileStaging(out: string): FileStaging {
  const target = resolve(out);
  const path = join(dirname(target), `.${basename(target)}.partial-${processId()}-${randomBytes(4).toString('hex')}`);
  live.add(path);
  return {
    path,
    async promote() {
      try {
        await rename(path, target);
        live.delete(path);
      } catch (err) {
        throw wrapError(err, 'LKVOL_IO', {
          message: `replace output ${out}`,
          hint: 'check that the directory of OUT is writable',
        });
      }
    },
    async discard() {
      await removeTree(path);
      live.delete(path);
    },
  };
}

/**
 * Removes the staging directory after a failed build. A failure to remove it goes to `onLeftover`
 * (as LKVOL_IO naming the directory) and is never thrown: it must not replace the build's own error,
 * and the next build's {@link recoverOutput} removes what is left.
 */
export async function discardAfterFailure(
  staging: Pick<Staging, 'dir' | 'discard'>,
  onLeftover: (err: LkvolError) => void,
): Promise<void> {
  try {
    await staging.discard();
  } catch (err) {
    onLeftover(wrapError(err, 'LKVOL_IO', `remove staging directory ${staging.dir}`));
  }
}

/**
 * Renames `dir` to `target`, first moving whatever is at `target` aside (rename(2) replaces only an
 * empty directory). Returns the moved-aside paths. Between the two renames OUT does not exist (Linux
 * has renameat2(RENAME_EXCHANGE), Node does not); a build killed there is repaired by {@link recoverOutput}.
 */
async function swapIn(dir: string, target: string, aside: () => string): Promise<string[]> {
  const moved: string[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      await rename(dir, target);
      return moved;
    } catch (err) {
      if (!isOccupied(err) || attempt >= maxSwapAttempts) {
        await putBack(moved, target);
        throw err;
      }
    }
    const old = aside();
    live.add(old);
    try {
      await rename(target, old);
      moved.push(old);
    } catch (err) {
      live.delete(old);
      // ENOENT: a concurrent build moved OUT away first; its staging may land there, so try again.
      if (errno(err) !== 'ENOENT') {
        await putBack(moved, target);
        throw err;
      }
    }
  }
}

/** After a failed swap, gives OUT back the tree we moved away, unless something took its place. */
async function putBack(moved: string[], target: string): Promise<void> {
  const last = moved.pop();
  if (last !== undefined && !(await exists(target))) await rename(last, target);
}

/**
 * Repairs what killed builds left beside OUT: `.<name>.partial-<pid>-*` is removed, and
 * `.<name>.old-<pid>-*` (the previous OUT, moved aside in `promote`) is moved back when OUT is missing
 * (the build died between its two renames) or removed otherwise. Leftovers of live processes belong
 * to concurrent builds and stay; our own pid counts as dead unless the path is one of this process's
 * builds (in a container the pid of a killed build is often ours again). Called by {@link createStaging}.
 * @throws the fs error when the parent cannot be read or a leftover cannot be removed.
 */
export async function recoverOutput(out: string): Promise<void> {
  const target = resolve(out);
  const parent = dirname(target);
  const prefix = `.${basename(target)}.`;
  const dead = { old: [] as string[], partial: [] as string[] };
  for (const entry of (await readdir(parent)).sort()) {
    const m = /^(partial|old)-(\d+)-[0-9a-f]+$/.exec(entry.startsWith(prefix) ? entry.slice(prefix.length) : '');
    const path = join(parent, entry);
    if (m !== null && !live.has(path) && !isAlive(Number(m[2]))) dead[m[1] as 'old' | 'partial'].push(path);
  }
  // Restore before removing anything: OUT must come back even if this recovery is killed in turn.
  const restore = dead.old.shift();
  if (restore !== undefined && !(await exists(target))) await rename(restore, target).catch(ignoreRace);
  else if (restore !== undefined) dead.old.push(restore);
  for (const path of [...dead.old, ...dead.partial]) await removeTree(path);
}

function isAlive(pid: number): boolean {
  return pid !== processId() && isProcessAlive(pid);
}

/** A concurrent recovery got there first: the leftover is gone, or OUT is back. */
function ignoreRace(err: unknown): void {
  if (!['ENOENT', 'ENOTEMPTY', 'EEXIST'].includes(errno(err) ?? '')) throw err;
}

function isOccupied(err: unknown): boolean {
  return ['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR'].includes(errno(err) ?? '');
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
