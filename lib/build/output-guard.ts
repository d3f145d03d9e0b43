// Which OUT a build may replace (SPEC §2): nothing the user still needs, checked before any network access or write.
import { createReadStream, type Stats } from 'node:fs';
import { access, lstat, readdir, readFile, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LkvolError, wrapError } from '../errors.js';
import { TarReader } from '../tar/index.js';
import type { ResolvedBuildOptions } from './options.js';
import { isBuildRecord } from './record.js';

/** What the guard needs of a build's options (paths absolute, except `out` and `files`, which are taken from `cwd`). */
export type OutputGuardOptions = Pick<
  ResolvedBuildOptions,
  'out' | 'cwd' | 'home' | 'cacheDir' | 'files' | 'caCertFiles' | 'certsDirs' | 'dockerConfigPath' | 'authFiles'
> & {
  /** The policy file, an input like the system files. */
  policy?: string | undefined;
  /** `tar`: OUT is a tar file (or `-`, stdout); default `dir`. */
  format?: 'dir' | 'tar' | undefined;
  /** lkvol's own package directory; default: the one holding the running code. */
  installDir?: string | undefined;
};

/** What a build writes at the top of OUT: an earlier output holding anything else holds something of the user's. */
const outputEntries = new Set(['containers', 'lkvol.json']);
/** lkvol.json is read whole to recognise it; records of huge volumes run to tens of MiB, nothing of ours is bigger. */
const maxRecordBytes = 256 << 20;

/**
 * Checks that a build may replace OUT, before anything is pulled or written, and returns OUT as the
 * build writes it: absolute, with symlinks resolved (an OUT that is a symlink is followed: the
 * directory it points to is checked and replaced, the link stays). Never replaced: `/`, the home
 * directory, the current directory, the cache, lkvol's own installation, any input of the build,
 * and any directory containing one of them; nor anything {@link checkReplaceable} refuses.
 * A tar OUT (`format: 'tar'`) is a file: replaced only when missing or an earlier lkvol tar; `-` is stdout.
 * @throws LKVOL_USAGE for an empty OUT.
 * @throws LKVOL_OUTPUT_REFUSED naming OUT, as given and resolved, and why.
 * @throws LKVOL_IO when OUT cannot be inspected.
 */
export async function checkOutput(o: OutputGuardOptions): Promise<string> {
  if (o.out === '')
    throw new LkvolError('LKVOL_USAGE', 'output path is empty', { hint: 'name the output directory, e.g. -o out' });
  if (o.format === 'tar' && o.out === '-') return '-';
  const target = await realPath(resolve(o.cwd, o.out));
  const why = await protectedReason(target, o);
  if (why !== undefined)
    throw refusal(
      o.out,
      target,
      why,
      o.format === 'tar' ? 'name a new tar file elsewhere' : 'name a new or empty directory elsewhere',
    );
  if (o.format === 'tar') await checkTarReplaceable(o.out, target);
  else await checkReplaceable(o.out, target);
  return target;
}

/**
 * Checks that a tar OUT (absolute, symlinks resolved) is missing or an earlier lkvol tar: a regular
 * file whose `lkvol.json` member is a build record. Run again just before the rename.
 * @throws LKVOL_OUTPUT_REFUSED naming OUT and why; LKVOL_IO when OUT cannot be inspected.
 */
export async function checkTarReplaceable(out: string, target: string): Promise<void> {
  const why = await tarReason(target).catch((err: unknown) => {
    throw wrapError(err, 'LKVOL_IO', {
      message: `check output ${target}`,
      hint: 'check that OUT and its parent directory are readable',
    });
  });
  if (why !== undefined)
    throw refusal(
      out,
      target,
      why,
      why === mountPoint
        ? `name a tar file that is not a mount point (and not below ${target})`
        : 'name a new tar file, or remove this one yourself if it is not needed',
    );
}

async function tarReason(target: string): Promise<string | undefined> {
  const st = await lstatOut(target);
  if (st === undefined || typeof st === 'string') return st;
  if (st.isDirectory()) return 'is a directory (a tar output only replaces an earlier lkvol tar)';
  const mounted = await mountReason(target, st);
  if (mounted !== undefined) return mounted;
  if (!st.isFile()) return 'is not a regular file';
  return (await isLkvolTar(target))
    ? undefined
    : 'is a file lkvol did not write (not a tar holding an lkvol.json build record)';
}

/** True for a tar whose `lkvol.json` member holds a build record; headers are read, other bodies skipped. */
async function isLkvolTar(path: string): Promise<boolean> {
  const stream = createReadStream(path);
  try {
    for await (const m of new TarReader(stream).members()) {
      if (m.header.name !== 'lkvol.json') continue;
      if (m.header.size > maxRecordBytes) return false;
      const chunks: Buffer[] = [];
      for await (const c of m.body) chunks.push(Buffer.from(c));
      return isBuildRecord(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    }
  } catch {
    // Not a tar, or not JSON: not ours.
  } finally {
    // Closed now, not when collected: the tar is about to be replaced (and may be on a mount that must unmount).
    stream.destroy();
  }
  return false;
}

/**
 * Checks that `target` (absolute, symlinks resolved) is missing, an empty directory or an earlier
 * lkvol output: a directory holding an lkvol.json with a build record's fields, and nothing at its
 * top but what a build writes. Run again after crash recovery and just before the swap, since OUT may
 * have changed meanwhile. `out` is OUT as given, for the message.
 * @throws LKVOL_OUTPUT_REFUSED naming OUT and why; LKVOL_IO when OUT cannot be inspected.
 */
export async function checkReplaceable(out: string, target: string): Promise<void> {
  const why = await stableReason(target).catch((err: unknown) => {
    throw wrapError(err, 'LKVOL_IO', {
      message: `check output ${target}`,
      hint: 'check that OUT and its parent directory are readable',
    });
  });
  if (why !== undefined)
    throw refusal(
      out,
      target,
      why,
      why === mountPoint
        ? `build into a directory below it, e.g. -o ${join(target, 'out')}`
        : 'choose a new or empty directory, or remove this one yourself if nothing in it is needed',
    );
}

/**
 * Reads of OUT a concurrent build may disturb by swapping it: its swap is two renames, so a few tries see it settled.
 */
const concurrentSwapTries = 8;

/** {@link foreignReason}, read again when something vanished while OUT was read (another build swapped it). */
async function stableReason(target: string): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await foreignReason(target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= concurrentSwapTries) throw err;
    }
  }
}

/** Why `target` is, or contains, a path a build must never replace; undefined when it is none. */
async function protectedReason(target: string, o: OutputGuardOptions): Promise<string | undefined> {
  if (dirname(target) === target) return 'is the root directory';
  for (const { path, what } of await guardedPaths(o)) {
    for (const at of await locations(resolve(o.cwd, path))) {
      if (at === target) return `is ${what}`;
      if (isInside(at, target)) return `contains ${what}`;
    }
  }
  return undefined;
}

/** Everything the build must leave in place, whether it exists yet or not. */
async function guardedPaths(o: OutputGuardOptions): Promise<{ path: string; what: string }[]> {
  const credentials = [...(o.dockerConfigPath === undefined ? [] : [o.dockerConfigPath]), ...o.authFiles];
  return [
    { path: o.cwd, what: 'the current directory' },
    { path: o.home, what: `the home directory ${o.home}` },
    ...o.files.map((f) => ({ path: f, what: `the system file ${f}` })),
    ...(o.policy === undefined ? [] : [{ path: o.policy, what: `the policy file ${o.policy}` }]),
    { path: o.cacheDir, what: `the cache ${o.cacheDir}` },
    { path: o.installDir ?? (await ownInstallDir()), what: "lkvol's own installation" },
    ...o.caCertFiles.map((f) => ({ path: f, what: `the CA certificate file ${f}` })),
    ...o.certsDirs.map((d) => ({ path: d, what: `the certs directory ${d}` })),
    ...credentials.map((f) => ({ path: f, what: `the credentials file ${f}` })),
  ];
}

/**
 * Where `path` is once symlinks are resolved: itself fully resolved, and its name in its resolved
 * parent (a symlinked input is lost with the directory holding the link as much as with its target).
 */
async function locations(path: string): Promise<string[]> {
  const full = await realPath(path);
  const named = join(await realPath(dirname(path)), basename(path));
  return full === named ? [full] : [full, named];
}

/** `path` with every symlink resolved; the part that does not exist (yet) is kept as written. */
async function realPath(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(await realPath(parent), basename(path));
  }
}

function isInside(path: string, dir: string): boolean {
  const r = relative(dir, path);
  return r !== '' && r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r);
}

/** OUT's lstat; undefined when it does not exist; why it can never be OUT when it lies below a non-directory. */
async function lstatOut(target: string): Promise<Stats | string | undefined> {
  try {
    return await lstat(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') return 'lies below something that is not a directory';
    throw err;
  }
}

/** Why `target` is not OUT a build may replace; undefined when it is missing, empty or an earlier lkvol output. */
async function foreignReason(target: string): Promise<string | undefined> {
  const st = await lstatOut(target);
  if (st === undefined || typeof st === 'string') return st;
  if (!st.isDirectory()) return `is ${describeType(st)}, not a directory`;
  const mounted = await mountReason(target, st);
  if (mounted !== undefined) return mounted;
  const names = (await readdir(target)).sort();
  if (names.length === 0) return undefined;
  if (!names.includes('lkvol.json'))
    return `is a directory lkvol did not write (it holds ${list(names)} and no lkvol.json)`;
  if (!(await holdsBuildRecord(join(target, 'lkvol.json'))))
    return 'holds an lkvol.json that lkvol did not write (not a build record)';
  const foreign = names.filter((n) => !outputEntries.has(n));
  if (foreign.length > 0)
    return `is an earlier lkvol output that also holds ${list(foreign)}, which lkvol did not write`;
  return undefined;
}

/** The reason {@link mountReason} gives: the callers' hints tell where to write instead. */
const mountPoint = 'is a mount point (rename(2), which swaps a new output in, cannot replace one)';

/**
 * Why `target` (which exists: `st`) cannot be replaced by a rename: it is a mount point (another file system, a bind
 * mount as `docker run -v` makes, a btrfs subvolume), where rename(2) fails with EBUSY or EXDEV. Said before anything
 * is pulled rather than after the whole build.
 */
async function mountReason(target: string, st: Stats): Promise<string | undefined> {
  if ((await lstat(dirname(target))).dev !== st.dev) return mountPoint;
  // A bind mount of a directory of the same file system has its parent's device: the mount table tells.
  const table = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  for (const line of table.split('\n')) {
    // Field 5 is the mount point, with space, tab, newline and backslash written as octal escapes.
    const point = line
      .split(' ')[4]
      ?.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    if (point === target) return mountPoint;
  }
  return undefined;
}

/** True when `path` is a regular file whose JSON has a build record's fields. */
async function holdsBuildRecord(path: string): Promise<boolean> {
  const st = await lstat(path);
  if (!st.isFile() || st.size > maxRecordBytes) return false;
  try {
    return isBuildRecord(JSON.parse(await readFile(path, 'utf8')));
  } catch (err) {
    if (err instanceof SyntaxError) return false;
    throw err;
  }
}

function describeType(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  // realpath resolved every link that leads somewhere: one left is broken or a loop.
  if (st.isSymbolicLink()) return 'a broken symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'a device';
}

/** Up to three names, quoted. */
function list(names: readonly string[]): string {
  const shown = names.slice(0, 3).map((n) => JSON.stringify(n));
  return names.length > 3 ? `${shown.join(', ')}, …` : shown.join(', ');
}

function refusal(out: string, target: string, why: string, hint: string): LkvolError {
  const name = out === target ? JSON.stringify(out) : `${JSON.stringify(out)} (${target})`;
  return new LkvolError('LKVOL_OUTPUT_REFUSED', `output ${name} ${why}; refusing to replace it`, { hint });
}

let installDir: Promise<string> | undefined;

/** The package directory of the running lkvol: the first directory above this file holding a package.json. */
function ownInstallDir(): Promise<string> {
  installDir ??= (async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    for (let dir = here; ; dir = dirname(dir)) {
      if (
        await access(join(dir, 'package.json')).then(
          () => true,
          () => false,
        )
      )
        return dir;
      if (dirname(dir) === dir) return here;
    }
  })();
  return installDir;
}
