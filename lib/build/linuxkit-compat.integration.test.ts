// The LinuxKit compatibility suite: every system build of LinuxKit's examples/ and test/cases/ (testdata/linuxkit)
// builds against a registry holding images with the labels `linuxkit pkg build` writes, and every container's
// config.json and runtime.json equals what LinuxKit's own code writes (testdata/linuxkit/expected, made by
// testdata/linuxkit/oracle), except where lkvol deliberately differs (linuxkit-deviations.ts, listed in the README).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { build } from './index.js';
import { LkvolError } from '../errors.js';
import type { BuildEvent } from '../events.js';
import { startHttpProxy, type TestProxy } from '../internal/testing/http-proxy.js';
import { specDifferences } from '../internal/testing/linuxkit/compare.js';
import { classify, deviations } from '../internal/testing/linuxkit/deviations.js';
import type { CorpusBuild } from '../internal/testing/linuxkit/builds.js';
import {
  corpusDir,
  readCorpusBuilds,
  readCorpusImages,
  systemPath,
} from '../internal/testing/linuxkit/corpus-files.js';
import { pushLinuxkitImages } from '../internal/testing/linuxkit/push.js';
import { useRegistry } from '../internal/testing/use-registry.js';

interface ExpectedContainer {
  section: string;
  index: number;
  name: string;
  image: string;
  dir: string;
  config: unknown;
  runtime: unknown;
}
type Expected =
  | { id: string; ok: true; containers: ExpectedContainer[]; volumes?: { name: string }[] }
  | { id: string; ok: false; error: string };

const builds = await readCorpusBuilds();
const suite = useRegistry({ name: 'linuxkit' });
/** The files name Docker Hub: lkvol reaches it only through this proxy, which refuses everything not on loopback. */
let proxy: TestProxy;
let mirrors: string[];
/** Every warning of every build, `<build id>: <code>: <message>` with paths relative to systems/. */
const warnings: string[] = [];
/** Deviation rule id → the builds it explained, so a rule that no longer explains anything is noticed. */
const used = new Map<string, Set<string>>();

suite.before(async () => {
  proxy = await startHttpProxy();
  const pushed = await pushLinuxkitImages(suite.registry.host, await readCorpusImages());
  mirrors = Object.entries(pushed.mirrors).map(([from, to]) => `${from}=${to}`);
});

after(async () => {
  await proxy?.close();
});

/** `onboot/000-x`, `services/y`, … as written under OUT/containers, sorted. */
async function bundleDirs(out: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const section of ['onboot', 'onshutdown', 'services']) {
    for (const name of await readdir(join(out, 'containers', section)).catch(() => [])) dirs.push(`${section}/${name}`);
  }
  return dirs.sort();
}

/**
 * Builds `b` into `out` with --rootfs, as LinuxKit lays out a tree, recording its warnings (but the test's own mirror
 * fallback) in `warnings`.
 */
async function buildCorpus(b: CorpusBuild, out: string): Promise<void> {
  const onEvent = (e: BuildEvent): void => {
    if (e.kind === 'warning' && e.code !== 'LKVOL_WARN_MIRROR_RESOLVE')
      warnings.push(`${b.id}: ${e.code}: ${e.message.replaceAll(corpusDir('systems') + sep, '')}`);
  };
  const proxied = { httpsProxy: proxy.url, noProxy: '127.0.0.1' };
  await build({
    files: b.files.map(systemPath),
    out,
    cacheDir: join(suite.work, 'cache'),
    platform: 'linux/amd64',
    mirrors,
    insecureRegistries: [suite.registry.host],
    proxy: proxied,
    rootfs: true,
    onEvent,
  });
}

async function expectedOf(id: string): Promise<Expected> {
  return JSON.parse(await readFile(corpusDir('expected', `${id.replaceAll('/', '__')}.json`), 'utf8')) as Expected;
}

describe('LinuxKit corpus', () => {
  for (const [n, b] of builds.entries()) {
    test(b.id, async () => {
      const expected = await expectedOf(b.id);
      const out = join(suite.work, `out-${n}`);
      const run = buildCorpus(b, out);
      if (b.expect === 'refuse') {
        assert.equal(expected.ok, false, 'LinuxKit refuses it too');
        // Refused as a problem of the file, naming one of the build's files.
        await assert.rejects(
          run,
          (err: unknown) =>
            err instanceof LkvolError &&
            (err.code === 'LKVOL_CONFIG_SYNTAX' || err.code === 'LKVOL_CONFIG_INVALID') &&
            b.files.some((f) => err.message.includes(f)),
        );
        return;
      }
      await run;
      assert.equal(expected.ok, true);
      if (!expected.ok) return;
      assert.deepEqual(await bundleDirs(out), expected.containers.map((c) => c.dir).sort(), 'the same bundles');
      assert.deepEqual(
        (await readdir(join(out, 'containers', 'volumes')).catch(() => [])).sort(),
        (expected.volumes ?? []).map((v) => v.name).sort(),
        'the same volumes',
      );
      const report: string[] = [];
      for (const c of expected.containers) {
        for (const file of ['config', 'runtime'] as const) {
          const got = JSON.parse(await readFile(join(out, 'containers', c.dir, `${file}.json`), 'utf8')) as unknown;
          for (const d of specDifferences(c[file], got)) {
            const rule = classify(d, { dir: c.dir, file });
            if (rule === undefined)
              report.push(
                `${c.dir}/${file}.json ${d.path}: LinuxKit ${JSON.stringify(d.expected)}, lkvol ${JSON.stringify(d.got)}`,
              );
            else used.set(rule.id, (used.get(rule.id) ?? new Set()).add(b.id));
          }
        }
      }
      await rm(out, { recursive: true, force: true });
      assert.deepEqual(report, [], 'differences from LinuxKit that no deliberate deviation explains');
    });
  }

  // What LinuxKit silently ignores or reads loosely, lkvol reports: the reviewed list (UPDATE_GOLDEN=1 rewrites).
  test('the corpus warnings are the reviewed ones', async () => {
    const golden = corpusDir('warnings.txt');
    const got = `${warnings.sort().join('\n')}\n`;
    if (process.env['UPDATE_GOLDEN'] === '1') await writeFile(golden, got);
    assert.equal(got, await readFile(golden, 'utf8'));
  });

  test('Docker Hub was only asked for through the proxy, which refused', () => {
    assert.deepEqual([...new Set(proxy.requests)], ['CONNECT registry-1.docker.io:443']);
  });

  test('every deliberate deviation still explains a difference in the corpus', () => {
    assert.deepEqual(
      deviations.filter((r) => !used.has(r.id)).map((r) => r.id),
      [],
    );
  });
});

// The three things lkvol refused before it accepted every LinuxKit file, each from the real LinuxKit input
// that showed it (the corpus comparison above checks every field; these name the point of each).
describe('LinuxKit inputs lkvol once refused', () => {
  interface Spec {
    mounts: { destination: string; type?: string; source?: string; options?: string[] }[];
    linux: { devices?: { path: string }[]; resources: { devices?: Record<string, unknown>[] } };
  }
  async function specsOf(id: string): Promise<(dir: string) => Promise<Spec>> {
    const b = builds.find((x) => x.id === id);
    assert.ok(b, `${id} is in the corpus`);
    const out = join(suite.work, `named-${id.replaceAll('/', '_')}`);
    await buildCorpus(b, out);
    return async (dir) => JSON.parse(await readFile(join(out, 'containers', dir, 'config.json'), 'utf8')) as Spec;
  }
  const allBlock = { access: 'rwm', allow: true, type: 'b' };

  test('devices: `path: all` with only a type, in the YAML (012_losetup), is a cgroup rule for every device of that type', async () => {
    const spec = await (await specsOf('test/cases/040_packages/012_losetup'))('onboot/000-losetup');
    assert.deepEqual(
      spec.linux.resources.devices?.filter((d) => d['type'] === 'b'),
      [allBlock],
    );
    assert.equal(spec.linux.devices?.some((d) => d.path === 'all') ?? false, false, 'no device node named "all"');
  });

  test('devices: the `path: all` devices of a package label (pkg/format, no mode) are accepted the same way', async () => {
    const spec = await (await specsOf('examples/dm-crypt-loop'))('onboot/002-format');
    assert.deepEqual(
      spec.linux.resources.devices?.filter((d) => d['type'] === 'b'),
      [allBlock],
    );
  });

  test('mounts: a relative destination (001_tarheaders) is kept and sorted last, with a warning', async () => {
    const spec = await (await specsOf('test/cases/000_build/001_tarheaders'))('services/testservice');
    assert.equal(spec.mounts.at(-1)?.destination, 'writeable-host-etc');
    assert.ok(
      warnings.some((w) =>
        w.startsWith(
          'test/cases/000_build/001_tarheaders: LKVOL_WARN_RELATIVE_DESTINATION: test/cases/000_build/001_tarheaders/test.yml:32:22:',
        ),
      ),
    );
  });

  test('mounts: the empty destination of the test-containerd label is the cgroup mount point', async () => {
    const spec = await (await specsOf('test/cases/040_packages/003_containerd'))('onboot/004-test');
    assert.deepEqual(
      spec.mounts.filter((m) => m.type === 'cgroup').map((m) => m.destination),
      ['/sys/fs/cgroup'],
    );
    assert.ok(spec.mounts.every((m) => m.destination !== ''));
  });

  test('names: onboot names may repeat (dm-crypt-loop mounts twice); each gets its own numbered bundle', async () => {
    const specOf = await specsOf('examples/dm-crypt-loop');
    for (const dir of ['onboot/003-mount', 'onboot/006-mount']) assert.ok((await specOf(dir)).mounts.length > 0, dir);
  });
});
