// Test fixture: a real registry and a temporary directory for one test file or suite, through node:test hooks.
import { after } from 'node:test';
import { beforeInTurn } from './hooks.js';
import { startRegistry, type TestRegistry, type TestRegistryOptions } from './registry.js';
import { buildOptionsOf, useWorkDir, type WorkDirFixture } from './temp.js';

export interface UseRegistryOptions {
  /** Names the suite's directory, `$TMPDIR/lkvol-<name>-XXXXXX`. */
  name: string;
  /**
   * Options of startRegistry (auth, TLS, pull-through, a shared storage root). A function is called in
   * the fixture's `before` hook, after the fixtures and `fixture.before` hooks registered earlier have
   * run, so it may read what they made.
   */
  registry?: TestRegistryOptions | (() => TestRegistryOptions);
}

/** The registry of a suite, and its directory. */
export interface RegistryFixture extends WorkDirFixture {
  /** The running registry; throws when read outside the suite's tests and `before` hooks. */
  readonly registry: TestRegistry;
  /**
   * Writes `<work>/<name>/system.yml` from `yaml` with every `REGISTRY` replaced by the registry's host
   * (`buildOptions` writes it so too).
   */
  systemFile(name: string, yaml: string): Promise<{ dir: string; file: string }>;
}

/**
 * Registers hooks on the current file or suite: `before` makes the directory and starts Debian's
 * docker-registry on a free loopback port (lib/internal/testing/registry.ts); `after` runs the
 * onTeardown callbacks, removes the directory and stops the registry. Setup that needs the registry
 * (pushing images) goes in `fixture.before`. When the registry cannot start, `before` throws, so every
 * test of the suite fails: it never skips.
 */
export function useRegistry(opts: UseRegistryOptions): RegistryFixture {
  const dir = useWorkDir(opts.name);
  let registry: TestRegistry | undefined;
  beforeInTurn(async () => {
    registry = await startRegistry(typeof opts.registry === 'function' ? opts.registry() : opts.registry);
  });
  after(async () => {
    await registry?.stop();
  });
  const systemFile = (name: string, yaml: string) => dir.systemFile(name, yaml.replaceAll('REGISTRY', running().host));
  const running = () => {
    if (registry === undefined)
      throw new Error(`useRegistry(${JSON.stringify(opts.name)}): read in a test or in a hook added with its before()`);
    return registry;
  };
  return {
    get registry() {
      return running();
    },
    get work() {
      return dir.work;
    },
    before: beforeInTurn,
    tempDir: (t, name) => dir.tempDir(t, name),
    systemFile,
    buildOptions: buildOptionsOf(systemFile),
    onTeardown: (fn) => dir.onTeardown(fn),
  };
}
