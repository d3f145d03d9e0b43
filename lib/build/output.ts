// Atomic output: build into a hidden sibling of OUT, then swap it into place; recover from killed builds.
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { wrapError, type LkvolError } from '../errors.js';
import { isProcessAlive, processId } from '../internal/process.js';
import { removeTree } from '../internal/remove.js';

export interface Staging {
  /** The directory to build into. */
  readonly dir: string;
  /**
   * Makes the staging directory the new OUT; the previous OUT is removed only after the swap. `adopt` names
   * trees of the previous OUT to move into staging in the swap, each onto the empty directory at the same path.
   * @throws AdoptionLost (before anything is swapped, every tree back in OUT) when one of them is not the
   *   directory verified any more; LKVOL_IO otherwise.
   */
  promote(adopt?: readonly Adoption[]): Promise<void>;
  /** Removes the staging directory (after a failure); never touches OUT. */
  discard(): Promise<void>;
}

/**
 * An unchanged tree of the previous OUT (a volume's lower/, a bundle's root) that the new OUT takes over by
 * rename: no copy to make, and none to remove with the old OUT. It stays in OUT until the swap; the journal
 * beside OUT lets {@link recoverOutput} put it back if the build is killed during the swap.
 */
export interface Adoption {
  /** The tree's path below OUT, the same below staging: `containers/volumes/<name>/lower`. */
  rel: string;
  /** The directory that was checked intact (see reuse.ts `intactTree`); anything else there is not taken. */
  dev: number;
  ino: number;
}

/** A tree to adopt was no longer the one checked (a concurrent build replaced OUT): copy or extract it instead. */
export class AdoptionLost extends Error {
  constructor(readonly rel: string) {
    super(`${rel} changed while the build ran`);
    this.name = 'AdoptionLost';
  }
}

/** The journal of a build's adoptions, `.<OUT>.adopt-<pid>-<rand>`. */
interface AdoptJournal {
  /** The staging directory's name, beside OUT. */
  staging: string;
  trees: string[];
}

/** Staging and moved-aside directories of builds running in this process (their pid is ours, yet they are alive). */
const live = new Set<string>();
/** A concurrent build can take OUT between our two renames; each round of that race has a winner, so this is plenty. */
const maxSwapAttempts = 8;

/**
 * Prepares `.<OUT>.partial-<pid>-<rand>` beside OUT (mode 0700, so a half-built tree with setuid
 * files is not reachable by other users), after {@link recoverOutput}. A previous OUT that `promote` cannot
 * remove after the swap goes to `onLeftover` (as LKVOL_IO naming it): the build has succeeded by then.
 * @throws LKVOL_IO when the parent directory cannot be written.
 */
export async function createStaging(out: string, onLeftover?: (err: LkvolError) => void): Promise<Staging> {
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
    async promote(adopt = []) {
      try {
        await chmod(dir, 0o755);
        const moved =
          adopt.length === 0
            ? await swapIn(dir, target, () => aside('old'))
            : await swapAdopting({ dir, target, trees: adopt, aside });
        live.delete(dir);
        // OUT is already the new tree: failing to delete the old one must not fail the build;
        // the next build's recovery tries again.
        for (const old of moved)
          await removeTree(old)
            .catch((err: unknown) => onLeftover?.(wrapError(err, 'LKVOL_IO', `remove the previous output ${old}`)))
            .finally(() => live.delete(old));
      } catch (err) {
        if (err instanceof AdoptionLost) throw err;
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

/**
 * The swap of a build that adopts trees of the previous OUT: OUT is moved aside first, the journal written, the
 * trees moved from there into staging, and staging renamed onto OUT. So OUT is never a tree with some of them
 * missing: until the swap it does not exist (as between the two renames of any swap), and {@link recoverOutput}
 * puts the previous OUT back, its trees included. Returns the moved-aside directories to remove. On a failure
 * before the swap, everything goes back as it was, staging's empty places included.
 * @throws AdoptionLost when a tree is not the directory checked intact any more, or cannot be renamed.
 */
async function swapAdopting(o: {
  dir: string;
  target: string;
  trees: readonly Adoption[];
  aside: (kind: string) => string;
}): Promise<string[]> {
  const old = o.aside('old');
  live.add(old);
  try {
    await rename(o.target, old);
  } catch (err) {
    live.delete(old);
    // ENOENT: a concurrent build moved OUT away: what it holds now was never checked.
    throw errno(err) === 'ENOENT' ? new AdoptionLost(o.trees[0]!.rel) : err;
  }
  const journal = o.aside('adopt');
  const entry: AdoptJournal = { staging: basename(o.dir), trees: o.trees.map((t) => t.rel) };
  live.add(journal);
  const moved: string[] = [];
  try {
    await writeFile(journal, JSON.stringify(entry), { flag: 'wx' });
    for (const tree of o.trees) {
      const from = join(old, tree.rel);
      const st = await lstat(from).catch(() => undefined);
      if (st?.isDirectory() !== true || st.dev !== tree.dev || st.ino !== tree.ino) throw new AdoptionLost(tree.rel);
      // Onto the empty directory staging has there (rename(2) replaces an empty one). The build links or
      // extracts the tree instead where it cannot be moved: OUT or the tree is a mount of its own (EXDEV,
      // EBUSY), or, as an ordinary user, the tree's root is not writable (EACCES: its `..` changes with it).
      await rename(from, join(o.dir, tree.rel)).catch((err: unknown) => {
        throw ['EXDEV', 'EBUSY', 'EACCES', 'EPERM'].includes(errno(err) ?? '') ? new AdoptionLost(tree.rel) : err;
      });
      moved.push(tree.rel);
    }
    const taken = await swapIn(o.dir, o.target, () => o.aside('old'));
    await forget(journal);
    return [old, ...taken];
  } catch (err) {
    // The trees back into the previous OUT, and it back in place unless a concurrent build took OUT.
    await giveBack(o.dir, old, moved);
    for (const rel of moved) await mkdir(join(o.dir, rel)).catch(() => {});
    if (!(await exists(o.target))) await rename(old, o.target).catch(ignoreRace);
    live.delete(old);
    await forget(journal);
    throw err;
  }
}

/** Moves adopted trees from staging back into `target` (OUT, or the previous OUT aside) where they are missing. */
async function giveBack(dir: string, target: string, trees: readonly string[]): Promise<void> {
  for (const rel of trees)
    if ((await exists(join(dir, rel))) && !(await exists(join(target, rel))))
      await rename(join(dir, rel), join(target, rel)).catch(ignoreRace);
}

async function forget(journal: string): Promise<void> {
  await rm(journal, { force: true });
  live.delete(journal);
}

/** After a failed swap, gives OUT back the tree we moved away, unless something took its place. */
async function putBack(moved: string[], target: string): Promise<void> {
  const last = moved.pop();
  if (last !== undefined && !(await exists(target))) await rename(last, target);
}

/**
 * Repairs what killed builds left beside OUT: `.<name>.partial-<pid>-*` is removed, and
 * `.<name>.old-<pid>-*` (the previous OUT, moved aside in `promote`) is moved back when OUT is missing
 * (the build died between its two renames) or removed otherwise; then the trees an `.<name>.adopt-<pid>-*`
 * journal names go back from that build's staging into OUT where OUT lacks them (it died after taking
 * them). Leftovers of live processes belong to concurrent builds and stay; our own pid counts as dead
 * unless the path is one of this process's builds (in a container the pid of a killed build is often
 * ours again). Called by {@link createStaging}.
 * @throws the fs error when the parent cannot be read or a leftover cannot be removed.
 */
export async function recoverOutput(out: string): Promise<void> {
  const target = resolve(out);
  const parent = dirname(target);
  const prefix = `.${basename(target)}.`;
  const dead = { old: [] as string[], partial: [] as string[], adopt: [] as string[] };
  for (const entry of (await readdir(parent)).sort()) {
    const m = /^(partial|old|adopt)-(\d+)-[0-9a-f]+$/.exec(entry.startsWith(prefix) ? entry.slice(prefix.length) : '');
    const path = join(parent, entry);
    if (m !== null && !live.has(path) && !isAlive(Number(m[2]))) dead[m[1] as 'old' | 'partial' | 'adopt'].push(path);
  }
  // Restore before removing anything: OUT must come back even if this recovery is killed in turn.
  const restore = dead.old.shift();
  if (restore !== undefined && !(await exists(target))) await rename(restore, target).catch(ignoreRace);
  else if (restore !== undefined) dead.old.push(restore);
  for (const journal of dead.adopt) {
    const entry = await readJournal(journal, `${prefix}partial-`);
    if (entry !== undefined) await giveBack(join(parent, entry.staging), target, entry.trees);
    await rm(journal, { force: true });
  }
  for (const path of [...dead.old, ...dead.partial]) await removeTree(path);
}

/** A journal's trees; undefined for one cut short (killed while writing it: nothing was moved yet). */
async function readJournal(path: string, staging: string): Promise<AdoptJournal | undefined> {
  try {
    const entry = JSON.parse(await readFile(path, 'utf8')) as AdoptJournal;
    // As swapAdopting writes it: a staging directory of this OUT, trees below it; nothing else is followed.
    const safe = (rel: string) => rel.split('/').every((c) => c !== '' && c !== '.' && c !== '..');
    if (!entry.staging.startsWith(staging) || entry.staging.includes('/') || !entry.trees.every(safe)) return undefined;
    return entry;
  } catch {
    return undefined;
  }
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
