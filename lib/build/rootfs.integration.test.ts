// --rootfs: container images unpacked into their bundles as LinuxKit's ImageBundle lays them out, each image once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build, type BuildOptions } from './index.js';
import { isLkvolError } from '../errors.js';
import type { BuildEvent } from '../events.js';
import { pushTarImage } from '../internal/testing/images.js';
import type { TarEntry } from '../internal/testing/tar.js';
import type { BuildRecord } from './record.js';
import { useRegistry } from '../internal/testing/use-registry.js';
import { replaceWithCopy } from '../internal/testing/tree.js';

const suite = useRegistry({ name: 'rootfs' });

/**
 * An image as `docker export` would not clean it: build leftovers, its own hosts and hostname, a whiteout in layer 2.
 */
const appLayers: TarEntry[][] = [
  [
    { name: 'bin', type: 'dir' },
    { name: 'bin/app', content: '#!/bin/sh\necho app\n', mode: 0o755 },
    { name: 'bin/app-link', type: 'link', linkname: 'bin/app' },
    { name: 'etc', type: 'dir', mode: 0o750 },
    { name: 'etc/hosts', content: '10.0.0.1 build-host\n', mode: 0o600 },
    { name: 'etc/hostname', content: 'builder\n' },
    { name: 'Dockerfile', content: 'FROM scratch\n' },
    { name: '.dockerenv', content: '' },
    { name: 'old.txt', content: 'gone in layer 2\n' },
  ],
  [
    { name: '.wh.old.txt', content: '' },
    { name: 'srv', type: 'dir' },
    { name: 'srv/index.html', content: '<h1>hi</h1>\n' },
  ],
];

suite.before(async () => {
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'rootfs/app',
    tag: '1',
    layers: appLayers,
    config: { Cmd: ['/bin/app'] },
  });
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'rootfs/tool',
    tag: '1',
    layers: [
      [
        { name: 'tool', content: 'tool\n', mode: 0o755 },
        { name: 'etc', type: 'symlink', linkname: '/elsewhere' },
      ],
    ],
  });
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'rootfs/evil',
    tag: '1',
    layers: [
      [
        { name: 'ok', content: 'ok' },
        { name: '../../escaped', content: 'pwned' },
      ],
    ],
  });
});

/**
 * app is used by onboot a (writable: holds it in lower/) and service s (read-only); tool by onshutdown z (read-only:
 * holds it in rootfs/) and service t.
 */
const system = `onboot:
  - name: a
    image: REGISTRY/rootfs/app:1
services:
  - name: s
    image: REGISTRY/rootfs/app:1
    readonly: true
  - name: t
    image: REGISTRY/rootfs/tool:1
onshutdown:
  - name: z
    image: REGISTRY/rootfs/tool:1
    readonly: true
`;

/** Build options with --rootfs around a system file; the cache is shared by the file's tests. */
const setup = (name: string, yaml: string, extra: Partial<BuildOptions> = {}) =>
  suite.buildOptions(name, yaml, { cacheDir: join(suite.work, 'cache'), rootfs: true, ...extra });

type Mount = { destination: string; source?: string; type?: string; options?: string[] };
async function runtimeMounts(out: string, bundle: string): Promise<Mount[]> {
  return (JSON.parse(await readFile(join(out, 'containers', bundle, 'runtime.json'), 'utf8')) as { mounts: Mount[] })
    .mounts;
}

async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

describe('--rootfs', () => {
  test('each bundle laid out as ImageBundle does; each image unpacked once, in LinuxKit order (onboot, onshutdown, services)', async () => {
    const events: BuildEvent[] = [];
    const o = await setup('layout', system, { onEvent: (e) => events.push(e) });
    await build(o);
    const c = join(o.out, 'containers');
    assert.deepEqual(await entries(join(c, 'onboot/000-a')), ['config.json', 'lower', 'rootfs', 'runtime.json', 'tmp']);
    assert.deepEqual(
      await entries(join(c, 'services/s')),
      ['config.json', 'rootfs', 'runtime.json'],
      'read-only, app held by a: an empty mount point',
    );
    assert.deepEqual(await entries(join(c, 'onshutdown/000-z')), ['config.json', 'rootfs', 'runtime.json']);
    assert.deepEqual(
      await entries(join(c, 'services/t')),
      ['config.json', 'rootfs', 'runtime.json', 'tmp'],
      'writable, tool held by z: no lower/ of its own',
    );
    for (const empty of [
      'onboot/000-a/rootfs',
      'onboot/000-a/tmp',
      'services/s/rootfs',
      'services/t/rootfs',
      'services/t/tmp',
    ])
      assert.deepEqual(await readdir(join(c, empty)), [], empty);
    assert.ok((await entries(join(c, 'onboot/000-a/lower'))).includes('bin'));
    assert.ok((await entries(join(c, 'onshutdown/000-z/rootfs'))).includes('tool'));

    assert.deepEqual(await runtimeMounts(o.out, 'services/s'), [
      { destination: '/containers/services/s/rootfs', source: '/containers/onboot/000-a/lower', options: ['bind'] },
    ]);
    assert.deepEqual((await runtimeMounts(o.out, 'services/t')).find((m) => m.type === 'overlay')?.options, [
      'lowerdir=/containers/onshutdown/000-z/rootfs',
      'upperdir=/containers/services/t/tmp/upper',
      'workdir=/containers/services/t/tmp/work',
    ]);
    assert.deepEqual(await runtimeMounts(o.out, 'onshutdown/000-z'), [
      {
        destination: '/containers/onshutdown/000-z/rootfs',
        source: '/containers/onshutdown/000-z/rootfs',
        options: ['bind'],
      },
    ]);

    const record = JSON.parse(await readFile(join(o.out, 'lkvol.json'), 'utf8')) as BuildRecord;
    const rootfs = Object.fromEntries(record.containers.map((x) => [x.name, x.rootfs]));
    assert.equal(rootfs['a']?.path, 'containers/onboot/000-a/lower');
    assert.equal(rootfs['a']?.layers?.length, 2);
    assert.match(rootfs['a']?.contentDigest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(rootfs['s'], { path: 'containers/onboot/000-a/lower' });
    assert.deepEqual(rootfs['t'], { path: 'containers/onshutdown/000-z/rootfs' });
    const unpacked = events.flatMap((e) => (e.kind === 'rootfs-start' ? [e.bundle] : []));
    assert.deepEqual(
      unpacked.sort(),
      ['containers/onboot/000-a', 'containers/onshutdown/000-z'],
      'two images, two unpacks',
    );
  });

  test('the image is changed as LinuxKit changes it: leftovers dropped, hosts and resolv.conf replaced, mount points and etc/mtab added', async () => {
    const o = await setup('skeleton', system);
    await build(o);
    const lower = join(o.out, 'containers/onboot/000-a/lower');
    assert.deepEqual(await entries(lower), ['bin', 'dev', 'etc', 'proc', 'srv', 'sys']);
    assert.deepEqual(await entries(join(lower, 'etc')), ['hosts', 'mtab', 'resolv.conf']);
    assert.deepEqual(await entries(join(lower, 'dev')), ['pts', 'shm']);
    assert.match(
      await readFile(join(lower, 'etc/hosts'), 'utf8'),
      /^127\.0\.0\.1 +localhost\n::1 +localhost ip6-localhost ip6-loopback\n/,
    );
    assert.equal(await readFile(join(lower, 'etc/resolv.conf'), 'utf8'), '\n# no resolv.conf configured\n');
    assert.equal(await readlink(join(lower, 'etc/mtab')), '/proc/mounts');
    assert.equal(
      (await lstat(join(lower, 'etc/hosts'))).mtime.toISOString(),
      '2017-04-18T16:30:00.000Z',
      "LinuxKit's date",
    );
    assert.equal((await lstat(join(lower, 'etc'))).mode & 0o777, 0o750, "the image's own directory is kept as it is");
    assert.equal(await readFile(join(lower, 'srv/index.html'), 'utf8'), '<h1>hi</h1>\n');
    const app = await lstat(join(lower, 'bin/app'));
    assert.equal(app.nlink, 2, 'hardlinks kept');
    assert.equal(app.mode & 0o777, 0o755);
  });

  test('an image whose etc is a symlink gets a real etc, and nothing is written through the link', async () => {
    const o = await setup('symlinked-etc', system);
    await build(o);
    const root = join(o.out, 'containers/onshutdown/000-z/rootfs');
    assert.ok((await lstat(join(root, 'etc'))).isDirectory());
    assert.deepEqual(await entries(join(root, 'etc')), ['hosts', 'mtab', 'resolv.conf']);
    await assert.rejects(lstat('/elsewhere'));
  });

  test('without --rootfs the specs are the same and no bundle directory is made', async () => {
    const withRootfs = await setup('specs-with', system);
    await build(withRootfs);
    const without = await setup('specs-without', system, { rootfs: false });
    await build(without);
    for (const bundle of ['onboot/000-a', 'services/s', 'services/t', 'onshutdown/000-z']) {
      assert.deepEqual(await entries(join(without.out, 'containers', bundle)), ['config.json', 'runtime.json'], bundle);
      for (const f of ['config.json', 'runtime.json'])
        assert.equal(
          await readFile(join(without.out, 'containers', bundle, f), 'utf8'),
          await readFile(join(withRootfs.out, 'containers', bundle, f), 'utf8'),
          `${bundle}/${f}`,
        );
    }
  });

  test('two builds of the same inputs give the same record; the second replaces the first', async () => {
    const o = await setup('twice', system, { sourceDateEpoch: 1_700_000_000 });
    await build(o);
    const first = await readFile(join(o.out, 'lkvol.json'), 'utf8');
    await build(o);
    assert.equal(await readFile(join(o.out, 'lkvol.json'), 'utf8'), first);
  });

  test('a rebuild with nothing changed leaves OUT alone and says the roots were reused', async () => {
    const o = await setup('unchanged', system);
    await build(o);
    const before = await lstat(join(o.out, 'lkvol.json'));
    const events: BuildEvent[] = [];
    await build({ ...o, onEvent: (e) => events.push(e) });
    const after = await lstat(join(o.out, 'lkvol.json'));
    assert.deepEqual([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], 'OUT not rewritten');
    assert.deepEqual(
      events.flatMap((e) => (e.kind === 'rootfs-done' ? [`${e.bundle} ${String(e.reused)}`] : [])).sort(),
      ['containers/onboot/000-a true', 'containers/onshutdown/000-z true'],
    );
    assert.equal(
      events.some((e) => e.kind === 'rootfs-start'),
      false,
    );
  });

  /** The system with tool:2 for tool:1 (pushed, with other content): z's root must be unpacked again, a's not. */
  async function changeTool(o: BuildOptions): Promise<void> {
    await pushTarImage({
      registry: suite.registry.host,
      repository: 'rootfs/tool',
      tag: '2',
      layers: [[{ name: 'tool', content: 'tool v2\n', mode: 0o755 }]],
    });
    await writeFile(
      o.files[0]!,
      system.replaceAll('rootfs/tool:1', 'rootfs/tool:2').replaceAll('REGISTRY', suite.registry.host),
    );
  }

  /** After a rebuild with tool:2: z's new root is in OUT, and nothing of the build is left beside OUT. */
  async function assertToolChanged(o: BuildOptions): Promise<void> {
    assert.equal(await readFile(join(o.out, 'containers/onshutdown/000-z/rootfs/tool'), 'utf8'), 'tool v2\n');
    assert.deepEqual(
      (await readdir(dirname(o.out))).filter((n) => n.startsWith('.')),
      [],
      'nothing left beside OUT',
    );
  }

  test('one image changed: only its root is unpacked, the other is moved from the previous OUT', async () => {
    const o = await setup('one-changed', system);
    await build(o);
    const lower = join(o.out, 'containers/onboot/000-a/lower');
    const [root, app] = [await lstat(lower), await lstat(join(lower, 'bin/app'))];
    await changeTool(o);
    const events: BuildEvent[] = [];
    await build({ ...o, onEvent: (e) => events.push(e) });
    assert.deepEqual(
      events.flatMap((e) => (e.kind === 'rootfs-start' ? [e.bundle] : [])),
      ['containers/onboot/000-a', 'containers/onshutdown/000-z'].slice(1),
    );
    assert.equal((await lstat(lower)).ino, root.ino, 'the same directory, moved');
    const now = await lstat(join(lower, 'bin/app'));
    assert.deepEqual([now.ino, now.nlink], [app.ino, app.nlink], 'not unpacked again, no links left by a reuse');
    assert.deepEqual(await entries(join(o.out, 'containers/onboot/000-a/tmp')), []);
    await assertToolChanged(o);
  });

  test('a root replaced in OUT after it was checked is made again instead of moved, and OUT is complete', async () => {
    const o = await setup('replaced-root', system);
    await build(o);
    const lower = join(o.out, 'containers/onboot/000-a/lower');
    const before = await entries(join(lower, 'bin'));
    await changeTool(o);
    let replaced = false;
    const events: BuildEvent[] = [];
    const onEvent = (e: BuildEvent) => {
      events.push(e);
      // Checked intact, not moved yet: a concurrent build swaps in its own copy of the same tree.
      if (e.kind === 'rootfs-done' && e.bundle === 'containers/onboot/000-a' && e.reused && !replaced) {
        replaced = true;
        replaceWithCopy(lower);
      }
    };
    await build({ ...o, onEvent });
    assert.ok(replaced);
    // The copy's hardlinks are files of their own: it is not intact, so the fallback unpacks the root again.
    assert.equal(
      events.filter((e) => e.kind === 'rootfs-done' && e.bundle === 'containers/onboot/000-a').length,
      2,
      'moved, then done again',
    );
    assert.deepEqual(await entries(join(lower, 'bin')), before);
    assert.equal((await lstat(join(lower, 'bin/app'))).nlink, 2, 'its own hardlink, and no link to the old OUT');
    assert.equal(await readFile(join(lower, 'srv/index.html'), 'utf8'), '<h1>hi</h1>\n');
    const record = JSON.parse(await readFile(join(o.out, 'lkvol.json'), 'utf8')) as BuildRecord;
    assert.equal(
      record.containers.find((c) => c.path === 'containers/onboot/000-a')?.rootfs?.path,
      lower.slice(o.out.length + 1),
    );
    await assertToolChanged(o);
  });

  test('a root edited after the build is unpacked anew; without reuse every root is', async () => {
    const o = await setup('edited', system);
    await build(o);
    await writeFile(join(o.out, 'containers/onboot/000-a/lower/srv/index.html'), 'defaced\n');
    const events: BuildEvent[] = [];
    await build({ ...o, onEvent: (e) => events.push(e) });
    assert.deepEqual(
      events.flatMap((e) => (e.kind === 'rootfs-start' ? [e.bundle] : [])),
      ['containers/onboot/000-a'],
    );
    assert.equal(await readFile(join(o.out, 'containers/onboot/000-a/lower/srv/index.html'), 'utf8'), '<h1>hi</h1>\n');
    const all: BuildEvent[] = [];
    await build({ ...o, reuse: false, onEvent: (e) => all.push(e) });
    assert.equal(all.filter((e) => e.kind === 'rootfs-start').length, 2);
  });

  test('an output built without --rootfs is rebuilt with the roots, and the other way round', async () => {
    const o = await setup('toggle', system, { rootfs: false });
    await build(o);
    await build({ ...o, rootfs: true });
    assert.ok((await entries(join(o.out, 'containers/onboot/000-a/lower'))).includes('bin'));
    await build({ ...o, rootfs: false });
    assert.deepEqual(await entries(join(o.out, 'containers/onboot/000-a')), ['config.json', 'runtime.json']);
  });

  test('a hostile container layer fails the build naming the container and the entry; nothing is written', async () => {
    const o = await setup('evil', 'services:\n  - name: bad\n    image: REGISTRY/rootfs/evil:1\n');
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LAYER_UNSAFE_PATH') &&
        /services "bad"/.test(e.message) &&
        e.message.includes('../../escaped'),
    );
    await assert.rejects(lstat(o.out));
    assert.deepEqual((await readdir(o.dir)).sort(), ['system.yml']);
  });

  test('the caps on unpacking apply to container images too', async () => {
    const o = await setup('capped', system, { limits: { maxEntries: 3 } });
    await assert.rejects(
      build(o),
      (e: unknown) => isLkvolError(e, 'LKVOL_LAYER_LIMIT') && /onboot "a"/.test(e.message),
    );
  });
});
