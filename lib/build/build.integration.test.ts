// The build end to end against a real registry: trees, specs, records, LinuxKit's volume cases, atomicity.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type BuildOptions } from './index.js';
import { renameSync, writeFileSync } from 'node:fs';
import { isLkvolError } from '../errors.js';
import type { BuildEvent } from '../events.js';
import { pushMultiPlatform, pushTarImage } from '../internal/testing/images.js';
import { defaultMtime, type TarEntry } from '../internal/testing/tar.js';
import { describeTree, walkTree, wantDir, wantFile, wantSymlink } from '../internal/testing/tree.js';
import { execa } from 'execa';
import { startFaultProxy } from '../internal/testing/fault-proxy.js';
import { emptyRecordJson, writeEarlierOutput } from '../internal/testing/earlier-output.js';
import { useRegistry } from '../internal/testing/use-registry.js';

/** Two layers exercising whiteouts, an opaque dir, hardlinks (one to the lower layer), symlinks, modes and owners. */
const multiLayers: TarEntry[][] = [
  [
    { name: 'etc/', type: 'dir' },
    { name: 'etc/app.conf', content: 'v1', uid: 1000, gid: 1000 },
    { name: 'bin/', type: 'dir' },
    { name: 'bin/tool', content: 'tool', mode: 0o4755 },
    { name: 'data/', type: 'dir', mode: 0o700 },
    { name: 'data/old1', content: 'old' },
    { name: 'data/old2', content: 'old' },
    { name: 'shared', content: 'x' },
    { name: 'tmp/', type: 'dir', mode: 0o1777 },
  ],
  [
    { name: 'data/new', content: 'new' },
    { name: 'data/.wh..wh..opq' },
    { name: 'etc/app.conf', content: 'v2', uid: 1000, gid: 1000 },
    { name: 'etc/app.link', type: 'link', linkname: 'etc/app.conf' },
    { name: 'bin/tool2', type: 'link', linkname: 'bin/tool' },
    { name: 'current', type: 'symlink', linkname: 'data/new' },
    { name: 'lib64', type: 'symlink', linkname: '/usr/lib64' },
    { name: '.wh.shared' },
  ],
];

const suite = useRegistry({ name: 'build' });
let seedLayerHex: string;
const isRoot = process.getuid?.() === 0;

suite.before(async () => {
  const r = suite.registry.host;
  await pushTarImage({
    registry: r,
    repository: 'base/app',
    tag: '1',
    layers: [
      [
        { name: 'bin/', type: 'dir' },
        { name: 'bin/sh', content: '#!/bin/sh\n', mode: 0o755 },
      ],
    ],
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
  });
  await pushTarImage({ registry: r, repository: 'multi/layers', tag: '1', layers: multiLayers });
  seedLayerHex = (
    await pushTarImage({
      registry: r,
      repository: 'data/seed',
      tag: '1',
      layers: [
        [
          { name: 'bin/', type: 'dir' },
          { name: 'bin/busybox', content: 'busybox', mode: 0o755 },
        ],
      ],
    })
  ).layerDigests[0]!.slice('sha256:'.length);
});

/** Writes a system file (with `REGISTRY` replaced by the test registry) and returns build options around it. */
const setup = (name: string, yaml: string, extra: Partial<BuildOptions> = {}) => suite.buildOptions(name, yaml, extra);

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

type Mount = { destination: string; type?: string; source?: string; options?: string[] };
async function mountsOf(out: string, bundle: string): Promise<Mount[]> {
  return (await readJson(join(out, 'containers', bundle, 'config.json')))['mounts'] as Mount[];
}

function volumeMount(mounts: Mount[], destination: string): Mount | undefined {
  return mounts.find((m) => m.destination === destination);
}

describe('a multi-layer image volume', () => {
  test('applies whiteouts, opaque dirs, hardlinks, symlinks, modes and owners in layer order', async () => {
    const o = await setup('multi', 'volumes:\n  - name: data\n    image: REGISTRY/multi/layers:1\n');
    const result = await build(o);
    const lower = join(o.out, 'containers', 'volumes', 'data', 'lower');
    const owner = isRoot ? { uid: 1000, gid: 1000 } : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    const me = isRoot ? {} : owner;
    assert.deepEqual(describeTree(await walkTree(lower)), [
      wantDir('bin', 0o755, me),
      wantFile('bin/tool', 'tool', { mode: 0o4755, ...me, inode: 'bin/tool' }),
      wantFile('bin/tool2', 'tool', { mode: 0o4755, ...me, inode: 'bin/tool' }),
      wantSymlink('current', 'data/new', me),
      wantDir('data', 0o700, me),
      wantFile('data/new', 'new', { mode: 0o644, ...me }),
      wantDir('etc', 0o755, me),
      wantFile('etc/app.conf', 'v2', { mode: 0o644, ...owner, inode: 'etc/app.conf' }),
      wantFile('etc/app.link', 'v2', { mode: 0o644, ...owner, inode: 'etc/app.conf' }),
      wantSymlink('lib64', '/usr/lib64', me),
      wantDir('tmp', 0o1777, me),
    ]);
    const volume = result.record.volumes[0]!;
    assert.equal(volume.layers.length, 2);
    assert.equal(volume.files, 7);
    assert.equal(volume.bytes, 'tool'.length + 'new'.length + 'v2'.length);
    for (const sub of ['tmp', 'merged'])
      assert.deepEqual(await readdir(join(o.out, 'containers', 'volumes', 'data', sub)), []);
  });
});

describe('reference oracles', () => {
  test('lower/ matches what skopeo + umoci unpack make of the same image, entry by entry', async () => {
    const o = await setup('oracle', 'volumes:\n  - name: data\n    image: REGISTRY/multi/layers:1\n');
    await build(o);
    const policy = join(o.dir, 'policy.json');
    await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    await execa('skopeo', [
      'copy',
      '--policy',
      policy,
      '--src-tls-verify=false',
      `docker://${suite.registry.host}/multi/layers:1`,
      `oci:${join(o.dir, 'layout')}:img`,
    ]);
    await execa('umoci', [
      'unpack',
      ...(isRoot ? [] : ['--rootless']),
      '--image',
      `${join(o.dir, 'layout')}:img`,
      join(o.dir, 'bundle'),
    ]);
    const ours = describeTree(await walkTree(join(o.out, 'containers', 'volumes', 'data', 'lower')));
    const theirs = describeTree(await walkTree(join(o.dir, 'bundle', 'rootfs')));
    assert.ok(ours.length > 5);
    assert.deepEqual(ours, theirs);
  });
});

describe('platforms and formats', () => {
  test('an index resolves to the build platform; --platform picks another; a missing one lists what exists', async () => {
    await pushMultiPlatform({
      registry: suite.registry.host,
      repository: 'multi/arch',
      tag: '1',
      architectures: ['amd64', 'arm64'],
    });
    const yaml = 'volumes:\n  - name: v\n    image: REGISTRY/multi/arch:1\n';
    const amd = await setup('platform-amd64', yaml);
    await build(amd);
    assert.equal(await readFile(join(amd.out, 'containers/volumes/v/lower/arch'), 'utf8'), 'amd64\n');
    const arm = await setup('platform-arm64', yaml, { platform: 'linux/aarch64' });
    const rec = await build(arm);
    assert.equal(await readFile(join(arm.out, 'containers/volumes/v/lower/arch'), 'utf8'), 'arm64\n');
    assert.equal(rec.record.platform, 'linux/arm64');
    const s390 = await setup('platform-missing', yaml, { platform: 'linux/s390x' });
    await assert.rejects(
      build(s390),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_PLATFORM_NOT_FOUND') && /linux\/amd64/.test(e.message) && /linux\/arm64/.test(e.message),
    );
    await assert.rejects(stat(s390.out));
  });

  test('a Docker schema2 image with an uncompressed layer unpacks', async () => {
    await pushTarImage({
      registry: suite.registry.host,
      repository: 'docker/v2',
      tag: '1',
      format: 'docker',
      uncompressed: true,
      layers: [[{ name: 'hello', content: 'docker' }]],
    });
    const o = await setup('docker-schema2', 'volumes:\n  - name: v\n    image: REGISTRY/docker/v2:1\n');
    await build(o);
    assert.equal(await readFile(join(o.out, 'containers/volumes/v/lower/hello'), 'utf8'), 'docker');
  });

  test('format: oci writes an image layout listing only the selected platforms', async () => {
    await pushMultiPlatform({
      registry: suite.registry.host,
      repository: 'multi/layout',
      tag: '1',
      architectures: ['amd64', 'arm64'],
    });
    const o = await setup(
      'oci-layout',
      'volumes:\n  - name: imgs\n    image: REGISTRY/multi/layout:1\n    format: oci\n    platforms: [linux/arm64]\n',
    );
    await build(o);
    const lower = join(o.out, 'containers/volumes/imgs/lower');
    assert.deepEqual(await readJson(join(lower, 'oci-layout')), { imageLayoutVersion: '1.0.0' });
    const index = (await readJson(join(lower, 'index.json'))) as { manifests: { digest: string }[] };
    assert.equal(index.manifests.length, 1);
    const inner = (await readJson(join(lower, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)))) as {
      manifests: { platform: { architecture: string } }[];
    };
    assert.deepEqual(
      inner.manifests.map((m) => m.platform.architecture),
      ['arm64'],
    );
    // config, one layer and the manifest of arm64, plus the rewritten index
    assert.equal((await readdir(join(lower, 'blobs', 'sha256'))).length, 4);
  });

  test("format: oci keeps a Docker manifest list's media type and never copies a corrupt cached blob", async () => {
    await pushMultiPlatform({
      registry: suite.registry.host,
      repository: 'multi/docker-list',
      tag: '1',
      architectures: ['amd64'],
      format: 'docker',
    });
    const o = await setup(
      'oci-layout-docker',
      'volumes:\n  - name: imgs\n    image: REGISTRY/multi/docker-list:1\n    format: oci\n',
    );
    const { record } = await build(o);
    const index = (await readJson(join(o.out, 'containers/volumes/imgs/lower/index.json'))) as {
      manifests: { mediaType: string }[];
    };
    assert.equal(index.manifests[0]!.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
    const layer = record.volumes[0]!.layers[0]!;
    assert.equal(layer.diffId, null);
    await writeFile(join(o.cacheDir, 'v1', 'blobs', 'sha256', layer.digest.slice(7)), 'not the layer');
    await assert.rejects(
      build(o),
      (e: unknown) => isLkvolError(e, 'LKVOL_DIGEST_MISMATCH') && e.message.includes('cached at'),
    );
  });
});

describe("LinuxKit's volume cases (test/cases/000_build/070_volumes)", () => {
  const containers = (entries: string) => `onboot:\n${entries}`;
  const entry = (name: string, binds: string) => `  - name: ${name}\n    image: REGISTRY/base/app:1\n${binds}`;

  test('000 rw volume bound rw by two containers', async () => {
    const o = await setup(
      'lk-000',
      `volumes:\n  - name: vola\n${containers(entry('test1', '    binds: [vola:/vola]\n') + entry('test2', '    binds: [vola:/vola]\n'))}`,
    );
    await build(o);
    for (const b of ['onboot/000-test1', 'onboot/001-test2']) {
      assert.deepEqual(volumeMount(await mountsOf(o.out, b), '/vola'), {
        destination: '/vola',
        type: 'bind',
        source: '/containers/volumes/vola/merged',
        options: ['rw', 'rbind', 'rshared'],
      });
    }
  });

  test('001 ro volume bound ro', async () => {
    const o = await setup(
      'lk-001',
      `volumes:\n  - name: vola\n    readonly: true\n${containers(entry('test', '    binds: [vola:/vola:ro]\n'))}`,
    );
    await build(o);
    assert.deepEqual(volumeMount(await mountsOf(o.out, 'onboot/000-test'), '/vola')?.options, ['ro', 'rbind']);
  });

  test('002 ro volume bound rw fails before anything is pulled or written', async () => {
    const o = await setup(
      'lk-002',
      `volumes:\n  - name: vola\n    readonly: true\n    image: REGISTRY/data/seed:1\n${containers(entry('test', '    binds: [vola:/vola]\n'))}`,
    );
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_CONFIG_INVALID') &&
        /system\.yml:\d+:\d+: onboot\[0\]/.test(e.message) &&
        /read-only/.test(e.message),
    );
    await assert.rejects(stat(o.out));
    await assert.rejects(stat(o.cacheDir));
  });

  test('003 rw volume bound ro by two containers', async () => {
    const o = await setup(
      'lk-003',
      `volumes:\n  - name: vola\n${containers(entry('test1', '    binds: [vola:/vola:ro]\n') + entry('test2', '    binds: [vola:/vola:ro]\n'))}`,
    );
    await build(o);
    for (const b of ['onboot/000-test1', 'onboot/001-test2'])
      assert.deepEqual(volumeMount(await mountsOf(o.out, b), '/vola')?.options, ['ro', 'rbind']);
  });

  test('004 blank volume', async () => {
    const o = await setup(
      'lk-004',
      `volumes:\n  - name: vola\n${containers(entry('test', '    binds: [vola:/vola]\n'))}`,
    );
    const { record } = await build(o);
    assert.deepEqual(await readdir(join(o.out, 'containers/volumes/vola/lower')), []);
    assert.equal(record.volumes[0]!.image, null);
  });

  test('005 image-seeded volume', async () => {
    const o = await setup(
      'lk-005',
      `volumes:\n  - name: vola\n    image: REGISTRY/data/seed:1\n${containers(entry('test', '    binds: [vola:/vola]\n'))}`,
    );
    await build(o);
    assert.equal(await readFile(join(o.out, 'containers/volumes/vola/lower/bin/busybox'), 'utf8'), 'busybox');
  });

  test('006 the same volume through binds, mounts and binds.add', async () => {
    const entries =
      entry('testbinds', '    binds: [vola:/vola]\n') +
      entry('testmounts', '    mounts: [{type: bind, source: vola, destination: /vola}]\n') +
      entry('testbindadds', '    binds.add: [vola:/vola]\n');
    const o = await setup(
      'lk-006',
      `volumes:\n  - name: vola\n    image: REGISTRY/data/seed:1\n${containers(entries)}`,
    );
    await build(o);
    for (const b of ['onboot/000-testbinds', 'onboot/001-testmounts', 'onboot/002-testbindadds']) {
      assert.deepEqual(volumeMount(await mountsOf(o.out, b), '/vola'), {
        destination: '/vola',
        type: 'bind',
        source: '/containers/volumes/vola/merged',
        options: ['rw', 'rbind', 'rshared'],
      });
    }
  });
});

describe('limits', () => {
  test('a volume over its sizeLimit fails naming the limit, and leaves no output', async () => {
    const o = await setup('size-limit', 'volumes:\n  - name: v\n    image: REGISTRY/data/seed:1\n    sizeLimit: 4\n');
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LAYER_LIMIT') &&
        e.message.includes('sizeLimit of volume "v" (4)') &&
        e.hint === 'raise the sizeLimit of volume "v" in the system file',
    );
    await assert.rejects(stat(o.out));
    assert.deepEqual(
      (await readdir(o.dir)).filter((n) => n.startsWith('.out.')),
      [],
    );
  });

  test('--max-entries caps entries over all layers of a volume', async () => {
    const o = await setup('max-entries', 'volumes:\n  - name: v\n    image: REGISTRY/multi/layers:1\n', {
      limits: { maxEntries: 12 },
    });
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LAYER_LIMIT') &&
        /maxEntries \(12\)/.test(e.message) &&
        /--max-entries/.test(e.hint ?? ''),
    );
  });
});

describe('image labels', () => {
  test('a label bind of a read-only volume without ro fails before any layer is pulled', async () => {
    const label = JSON.stringify({ binds: ['vola:/vola'] });
    const pushed = await pushTarImage({
      registry: suite.registry.host,
      repository: 'label/rw',
      tag: '1',
      layers: [[{ name: 'x', content: 'x' }]],
      config: { Labels: { 'org.mobyproject.config': label } },
    });
    const o = await setup(
      'label-ro',
      `volumes:\n  - name: vola\n    readonly: true\n    image: REGISTRY/data/seed:1\nservices:\n  - name: svc\n    image: REGISTRY/label/rw:1\n`,
    );
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_CONFIG_INVALID') &&
        /label org\.mobyproject\.config/.test(e.message) &&
        /read-only/.test(e.message),
    );
    // Manifests and configs are cached while resolving; layers must not be.
    const cached = await readdir(join(o.cacheDir, 'v1', 'blobs', 'sha256')).catch(() => []);
    assert.deepEqual(
      cached.filter((hex) => pushed.layerDigests.includes(`sha256:${hex}`) || hex === seedLayerHex),
      [],
    );
    await assert.rejects(stat(o.out));
  });

  test('label binds and YAML binds.add are merged and volume binds rewritten', async () => {
    const label = JSON.stringify({ binds: ['/dev:/dev', 'vola:/from-label:ro'], capabilities: ['CAP_SYS_ADMIN'] });
    await pushTarImage({
      registry: suite.registry.host,
      repository: 'label/merge',
      tag: '1',
      layers: [[{ name: 'x', content: 'x' }]],
      config: { Labels: { 'org.mobyproject.config': label } },
    });
    const o = await setup(
      'label-merge',
      `volumes:\n  - name: vola\nservices:\n  - name: svc\n    image: REGISTRY/label/merge:1\n    binds.add: [vola:/from-yaml]\n`,
    );
    await build(o);
    const mounts = await mountsOf(o.out, 'services/svc');
    assert.deepEqual(volumeMount(mounts, '/from-label'), {
      destination: '/from-label',
      type: 'bind',
      source: '/containers/volumes/vola/merged',
      options: ['ro', 'rbind'],
    });
    assert.deepEqual(volumeMount(mounts, '/from-yaml')?.source, '/containers/volumes/vola/merged');
    assert.deepEqual(volumeMount(mounts, '/dev')?.source, '/dev');
  });

  test('what LinuxKit reads differently in a label is a warning naming the container and image; the build goes on', async () => {
    const label = JSON.stringify({
      uid: 'fmt',
      mounts: [{ type: 'overlay', destination: 'host-etc' }],
      resources: { memory: { kernelTCP: 1024 } },
    });
    await pushTarImage({
      registry: suite.registry.host,
      repository: 'label/warn',
      tag: '1',
      layers: [[{ name: 'x', content: 'x' }]],
      config: { Labels: { 'org.mobyproject.config': label } },
    });
    const events: BuildEvent[] = [];
    const yaml = `onboot:\n  - name: fmt\n    image: REGISTRY/data/seed:1\n  - name: fmt\n    image: REGISTRY/data/seed:1\nservices:\n  - name: svc\n    image: REGISTRY/label/warn:1\n`;
    const o = await setup('label-warn', yaml, { onEvent: (e) => events.push(e) });
    await build(o);
    const warnings = events.flatMap((e) => (e.kind === 'warning' ? [`${e.code} ${e.message}`] : []));
    const image = `${suite.registry.host}/label/warn:1`;
    assert.deepEqual(
      warnings.map((w) => /^(\S+) (container "svc" \([^)]*\)): ([^:]+): /.exec(w)?.slice(1).join(' ')),
      [
        `LKVOL_WARN_RELATIVE_DESTINATION container "svc" (label org.mobyproject.config of ${image}) mounts[0].destination`,
        `LKVOL_WARN_LINUXKIT_IGNORES container "svc" (label org.mobyproject.config of ${image}) resources.memory.kernelTCP`,
        `LKVOL_WARN_AMBIGUOUS_ID container "svc" (label org.mobyproject.config of ${image}) uid`,
      ],
      warnings.join('\n'),
    );
    const svc = await readJson(join(o.out, 'containers/services/svc/config.json'));
    assert.deepEqual((svc['process'] as { user: { uid: number } }).user.uid, 101, 'the last "fmt" as in LinuxKit');
    assert.equal((svc['mounts'] as Mount[]).at(-1)?.destination, 'host-etc');
  });
});

describe('host-path policy', () => {
  test('a bind the policy forbids fails the build before any request; a label bind, before any layer is pulled', async () => {
    const proxy = await startFaultProxy(suite.registry.url, () => ({ kind: 'pass' }));
    try {
      const dir = join(suite.work, 'policy');
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, 'policy.yml'),
        'hostPaths:\n  allow:\n    - path: /var/lib/app\n  deny:\n    - /var/run/docker.sock\n',
      );
      const o = await setup(
        'policy',
        `services:\n  - name: s\n    image: ${proxy.host}/data/seed:1\n    binds: [/var/run/docker.sock:/var/run/docker.sock]\n`,
        { policy: join(dir, 'policy.yml') },
      );
      await assert.rejects(
        build(o),
        (e: unknown) =>
          isLkvolError(e, 'LKVOL_POLICY_VIOLATION') &&
          /system\.yml:4:13: services\[0\]\.binds\[0\]: container "s": .*is denied by hostPaths\.deny\[0\]/.test(
            e.message,
          ),
      );
      assert.deepEqual(proxy.seen, [], 'no request reached the registry');
      // The label's binds: known once the config is read, refused before any layer.
      const label = JSON.stringify({ binds: ['/etc:/host-etc'] });
      const pushed = await pushTarImage({
        registry: suite.registry.host,
        repository: 'label/hostbind',
        tag: '1',
        layers: [[{ name: 'x', content: 'x' }]],
        config: { Labels: { 'org.mobyproject.config': label } },
      });
      await writeFile(o.files[0]!, `services:\n  - name: s\n    image: ${proxy.host}/label/hostbind:1\n`);
      await assert.rejects(
        build(o),
        (e: unknown) =>
          isLkvolError(e, 'LKVOL_POLICY_VIOLATION') &&
          /container "s": label org\.mobyproject\.config of .*label\/hostbind:1: binds\[0\] "\/etc:\/host-etc": host path \/etc is not under any path the policy allows/.test(
            e.message,
          ),
      );
      const seen: string[] = [...proxy.seen];
      assert.ok(
        seen.some((r) => r.includes('/manifests/')),
        'the manifest was read',
      );
      assert.deepEqual(
        seen.filter((r) => pushed.layerDigests.some((d) => r.includes(d))),
        [],
        'no layer was pulled',
      );
      await assert.rejects(stat(o.out));
    } finally {
      await proxy.close();
    }
  });
});

describe('atomic and reproducible output', () => {
  test('a hostile layer fails the build, names layer and entry, and leaves the previous output and its neighbours untouched', async () => {
    const evil = await pushTarImage({
      registry: suite.registry.host,
      repository: 'evil/escape',
      tag: '1',
      layers: [
        [
          { name: 'ok', content: 'fine' },
          { name: '../../sentinel/pwn', content: 'pwned' },
        ],
      ],
    });
    const good = await setup('atomic', 'volumes:\n  - name: v\n    image: REGISTRY/data/seed:1\n');
    await mkdir(join(good.dir, 'sentinel'));
    await writeFile(join(good.dir, 'sentinel', 'keep'), 'keep');
    await build(good);
    const before = describeTree(await walkTree(good.dir));
    await writeFile(good.files[0]!, `volumes:\n  - name: v\n    image: ${suite.registry.host}/evil/escape:1\n`);
    await assert.rejects(
      build(good),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LAYER_UNSAFE_PATH') &&
        e.message.includes(evil.layerDigests[0]!) &&
        e.message.includes('../../sentinel/pwn'),
    );
    await writeFile(
      good.files[0]!,
      'volumes:\n  - name: v\n    image: REGISTRY/data/seed:1\n'.replace('REGISTRY', suite.registry.host),
    );
    const afterTree = describeTree(await walkTree(good.dir)).filter((l) => !l.startsWith('cache/'));
    assert.deepEqual(
      afterTree,
      before.filter((l) => !l.startsWith('cache/')),
    );
    assert.deepEqual(
      (await readdir(good.dir)).filter((n) => n.startsWith('.out.')),
      [],
    );
  });

  test('a build that fails early still restores an OUT that a build killed between its two renames left aside', async () => {
    const o = await setup('restore-early', 'volumes:\n  - name: v\n    image: REGISTRY/does/not-exist:1\n');
    // What promote leaves when killed after moving OUT aside and before renaming staging into place.
    const aside = join(o.dir, '.out.old-4000000-0badc0de');
    await writeEarlierOutput(aside);
    // NB: the output guard checks OUT again once it is back, and lets the earlier output through to the registry.
    await assert.rejects(build(o), (e: unknown) => isLkvolError(e, 'LKVOL_REGISTRY_NOT_FOUND'));
    assert.equal(await readFile(join(o.out, 'lkvol.json'), 'utf8'), emptyRecordJson);
    assert.deepEqual(
      (await readdir(o.dir)).filter((n) => n.startsWith('.out.')),
      [],
    );
  });

  test('when the staging directory cannot be removed either, the build reports its own error and warns of the leftover', async () => {
    const layer = `sha256:${seedLayerHex}`;
    let dir = '';
    let swapped = false;
    const proxy = await startFaultProxy(suite.registry.url, (req) => {
      if (!(req.url ?? '').includes(`/blobs/${layer}`)) return { kind: 'pass' };
      // The staging dir exists by now. With its parent turned into a file, removing it fails (ENOTDIR), even as root.
      if (!swapped) {
        renameSync(join(dir, 'parent'), join(dir, 'moved'));
        writeFileSync(join(dir, 'parent'), 'a file\n');
        swapped = true;
      }
      return { kind: 'status', status: 404 };
    });
    try {
      const o = await setup('discard-fails', `volumes:\n  - name: v\n    image: ${proxy.host}/data/seed:1\n`);
      dir = o.dir;
      const warnings: { code: string; message: string }[] = [];
      const onEvent = (e: BuildEvent) => void (e.kind === 'warning' && warnings.push(e));
      await assert.rejects(build({ ...o, out: join(dir, 'parent', 'out'), onEvent }), (e: unknown) =>
        isLkvolError(e, 'LKVOL_REGISTRY_NOT_FOUND'),
      );
      assert.deepEqual(
        warnings.map((w) => w.code),
        ['LKVOL_WARN_STAGING_LEFT'],
      );
      assert.match(
        warnings[0]!.message,
        /^remove staging directory .*\/parent\/\.out\.partial-\d+-[0-9a-f]+: ENOTDIR.*; the next build into OUT tries again to remove it$/,
      );
    } finally {
      await proxy.close();
    }
  });

  test(
    'when one image fails to resolve, requests still in flight for others are cancelled and build() returns',
    { timeout: 20_000 },
    async () => {
      // The proxy never answers for base/app; without cancelling it, closing the session would wait forever.
      const proxy = await startFaultProxy(suite.registry.url, (req) =>
        (req.url ?? '').includes('/base/app/') ? { kind: 'stall' } : { kind: 'pass' },
      );
      try {
        const o = await setup(
          'cancel-siblings',
          `volumes:\n  - name: v\n    image: ${proxy.host}/does/not-exist:1\nservices:\n  - name: svc\n    image: ${proxy.host}/base/app:1\n`,
        );
        await assert.rejects(build(o), (e: unknown) => isLkvolError(e, 'LKVOL_REGISTRY_NOT_FOUND'));
        assert.ok(
          proxy.seen.some((r) => r.includes('/base/app/')),
          'the stalled request was made',
        );
      } finally {
        await proxy.close();
      }
    },
  );

  test('two builds of the same input give the same bytes', async () => {
    const yaml = `volumes:\n  - name: vola\n    image: REGISTRY/data/seed:1\nservices:\n  - name: svc\n    image: REGISTRY/base/app:1\n    binds: [vola:/vola]\n`;
    const a = await setup('repro-a', yaml);
    const b = await setup('repro-b', yaml);
    await build(a);
    await build({ ...b, cacheDir: a.cacheDir });
    for (const f of ['lkvol.json', 'containers/services/svc/config.json', 'containers/services/svc/runtime.json']) {
      assert.equal(await readFile(join(a.out, f), 'utf8'), await readFile(join(b.out, f), 'utf8'), f);
    }
    assert.deepEqual(describeTree(await walkTree(a.out)), describeTree(await walkTree(b.out)));
  });

  test('SOURCE_DATE_EPOCH dates every synthesised entry; unpacked content keeps its layer times', async () => {
    const epoch = 1_234_567_890;
    const o = await setup(
      'epoch',
      `volumes:\n  - name: seeded\n    image: REGISTRY/data/seed:1\n  - name: blank\nservices:\n  - name: svc\n    image: REGISTRY/base/app:1\n`,
      { sourceDateEpoch: epoch },
    );
    await build(o);
    const nodes = await walkTree(o.out, { includeRoot: true });
    const unpacked = nodes.filter((n) => n.path.startsWith('containers/volumes/seeded/lower/'));
    const synthesised = nodes.filter((n) => !n.path.startsWith('containers/volumes/seeded/lower/'));
    assert.ok(synthesised.length >= 12 && unpacked.length === 2);
    assert.deepEqual(
      synthesised.filter((n) => n.mtime !== epoch).map((n) => n.path),
      [],
    );
    assert.deepEqual(
      unpacked.map((n) => n.mtime),
      [defaultMtime, defaultMtime],
    );
  });

  test('a corrupted cached blob is detected and fetched again', async () => {
    const o = await setup('cache-corrupt', 'volumes:\n  - name: v\n    image: REGISTRY/data/seed:1\n');
    const first = await build(o);
    const layer = first.record.volumes[0]!.layers[0]!.digest;
    await writeFile(join(o.cacheDir, 'v1', 'blobs', 'sha256', layer.slice(7)), 'garbage');
    const warnings: string[] = [];
    // A fresh OUT: into the same one the unchanged volume would be reused, and the cache never read.
    const out = join(o.dir, 'out2');
    await build({ ...o, out, onEvent: (e) => e.kind === 'warning' && warnings.push(e.code) });
    assert.equal(await readFile(join(out, 'containers/volumes/v/lower/bin/busybox'), 'utf8'), 'busybox');
    assert.deepEqual(warnings, ['LKVOL_WARN_CACHE_CORRUPT']);
  });
});
