// Test helpers: temporary directories removed when a test, or a whole test file or suite, ends.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { BuildOptions } from '../../build/index.js';
import { beforeInTurn } from './hooks.js';

/** What registers cleanup: a node:test TestContext. */
export interface TestCleanup {
  after(fn: () => Promise<void>): void;
}

/** Makes `$TMPDIR/lkvol-<name>-XXXXXX` and removes it, whatever is in it, after the test `t`. */
export async function tempDir(t: TestCleanup, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `lkvol-${name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A directory for one test file or suite; see {@link useWorkDir}. */
export interface WorkDirFixture {
  /** `$TMPDIR/lkvol-<name>-XXXXXX`; throws when read outside the suite's tests and `before` hooks. */
  readonly work: string;
  /**
   * Registers a `before` hook that runs once the fixture is ready (hooks registered with plain `before`
   * may run at the same time as the fixture's own: Node 20 starts file-level ones all at once).
   */
  before(fn: () => unknown): void;
  /** A new directory `<work>/<name>-XXXXXX` for the test `t`, removed when `t` ends. */
  tempDir(t: TestCleanup, name?: string): Promise<string>;
  /** Writes `<work>/<name>/system.yml` (the directory is made if missing). */
  systemFile(name: string, yaml: string): Promise<{ dir: string; file: string }>;
  /**
   * Writes the system file as `systemFile` does and returns build options around it: OUT `<dir>/out`, the
   * cache `<dir>/cache`, linux/amd64, ownership applied when running as root (as the CLI does); `extra` wins.
   */
  buildOptions(name: string, yaml: string, extra?: Partial<BuildOptions>): Promise<SystemBuild>;
  /**
   * Runs `fn` when the suite ends, last added first, before the directory is removed (and, for
   * useRegistry, before the registry stops). A plain `after` hook registered later runs after that:
   * node:test runs hooks in the order they were registered.
   */
  onTeardown(fn: () => unknown): void;
}

/** Build options around a system file of a fixture, with where it lives. */
export type SystemBuild = BuildOptions & { dir: string; file: string; out: string };

/** `buildOptions` of a fixture whose system files `systemFile` writes. */
export function buildOptionsOf(
  systemFile: WorkDirFixture['systemFile'],
): (name: string, yaml: string, extra?: Partial<BuildOptions>) => Promise<SystemBuild> {
  return async (name, yaml, extra = {}) => {
    const { dir, file } = await systemFile(name, yaml);
    return {
      dir,
      file,
      files: [file],
      out: join(dir, 'out'),
      cacheDir: join(dir, 'cache'),
      platform: 'linux/amd64',
      applyOwnership: process.getuid?.() === 0,
      ...extra,
    };
  };
}

/**
 * Registers `before` and `after` hooks on the current file or suite: the directory is made in
 * `before`, and removed with everything in it in `after`. Setup that needs it goes in `fixture.before`.
 */
export function useWorkDir(name: string): WorkDirFixture {
  let work: string | undefined;
  const teardowns: (() => unknown)[] = [];
  beforeInTurn(async () => {
    work = await mkdtemp(join(tmpdir(), `lkvol-${name}-`));
  });
  after(async () => {
    for (const fn of teardowns.splice(0).reverse()) await fn();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });
  const workDir = () => {
    if (work === undefined)
      throw new Error(`useWorkDir(${JSON.stringify(name)}): read in a test or in a hook added with its before()`);
    return work;
  };
  const systemFile = async (dirName: string, yaml: string) => {
    const dir = join(workDir(), dirName);
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'system.yml');
    await writeFile(file, yaml);
    return { dir, file };
  };
  return {
    get work() {
      return workDir();
    },
    before: beforeInTurn,
    async tempDir(t, prefix = 'test') {
      const dir = await mkdtemp(join(workDir(), `${prefix}-`));
      t.after(() => rm(dir, { recursive: true, force: true }));
      return dir;
    },
    systemFile,
    buildOptions: buildOptionsOf(systemFile),
    onTeardown(fn) {
      teardowns.push(fn);
    },
  };
}
