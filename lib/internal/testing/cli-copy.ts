// Test helper: a world-readable copy of the built CLI, for tests that run it as another user.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, sep } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './testdata.js';

export interface CliCopy {
  /** The copied `cmd/lkvol.js`, runnable by any user. */
  bin: string;
  /** Removes the copy. */
  remove(): Promise<void>;
}

/**
 * Copies what `node cmd/lkvol.js` loads into a fresh temporary directory that every user can read and
 * search: package.json (its `"type": "module"`), the compiled `cmd/` and `lib/` around `bin` without tests
 * and test helpers, and the production packages of package-lock.json. The checkout itself may sit under a
 * private directory (a clone in /root or in a `mktemp -d`) that another user cannot enter, so such a user
 * must not run it from there.
 * @throws when a directory above the temporary directory or the node binary is not searchable by others.
 */
export async function copyCliForOtherUsers(bin: string): Promise<CliCopy> {
  const root = repoRoot();
  const out = dirname(dirname(bin));
  const dir = await mkdtemp(join(tmpdir(), 'lkvol-cli-copy-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    // Node itself must be reachable too (not under /root/.nvm, say).
    for (const d of [dirname(dir), dirname(process.execPath)]) await assertSearchableByOthers(d);
    await cp(join(root, 'package.json'), join(dir, 'package.json'));
    for (const part of ['cmd', 'lib'])
      await cp(join(out, part), join(dir, 'dist', part), { recursive: true, filter: isRuntimeFile });
    for (const pkg of await productionPackages(root))
      await cp(join(root, pkg), join(dir, pkg), { recursive: true, verbatimSymlinks: true });
    // A umask of 077 in the checkout carries over to the copies: open them up explicitly.
    await promisify(execFile)('chmod', ['-R', 'a+rX', dir]);
  } catch (err) {
    await remove();
    throw err;
  }
  return { bin: join(dir, 'dist', 'cmd', basename(bin)), remove };
}

/** Compiled code only: no tests and no test helpers. */
function isRuntimeFile(path: string): boolean {
  return !/\.test\.js(\.map)?$|\.test\.d\.ts$/.test(path) && !path.includes(`${sep}internal${sep}testing`);
}

/**
 * The installed top-level `node_modules/…` folders of packages that are not dev-only (nested ones come with their
 * parent).
 */
async function productionPackages(root: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const wanted = Object.entries(lock.packages).filter(
    ([path, p]) =>
      path.startsWith('node_modules/') &&
      !path.slice('node_modules/'.length).includes('node_modules/') &&
      p.dev !== true,
  );
  const installed = await Promise.all(
    wanted.map(([path]) =>
      stat(join(root, path)).then(
        () => path,
        () => undefined,
      ),
    ),
  );
  // Optional packages for other platforms (@napi-rs/xattr-*) are not installed.
  return installed.filter((p): p is string => p !== undefined);
}

async function assertSearchableByOthers(dir: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    if (((await stat(d)).mode & 0o001) === 0)
      throw new Error(`${d} is not searchable by other users, who must reach node and a temporary directory (TMPDIR)`);
    if (dirname(d) === d) return;
  }
}
