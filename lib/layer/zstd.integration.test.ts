// zstd layers end to end: pushed to the real registry, built, the tree checked; sniffing beats labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type BuildOptions } from '../build/index.js';
import { isLkvolError } from '../errors.js';
import { pushImage, sha256, type LayerInput } from '../internal/testing/push.js';
import { buildTar, gzip, type TarEntry } from '../internal/testing/tar.js';
import { describeTree, walkTree, wantDir, wantFile } from '../internal/testing/tree.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const zstdType = 'application/vnd.oci.image.layer.v1.tar+zstd';
const gzipType = 'application/vnd.oci.image.layer.v1.tar+gzip';
const isRoot = process.getuid?.() === 0;
const suite = useRegistry({ name: 'zstd' });

/** A layer of `entries` compressed by the zstd CLI with `args`, labelled `mediaType`. */
async function zstdLayer(entries: TarEntry[], mediaType: string, args: string[] = []): Promise<LayerInput> {
  const tar = await buildTar(entries);
  return { data: execFileSync('zstd', ['-q', '-c', ...args], { input: tar }), mediaType, diffId: sha256(tar) };
}

/** Pushes the layers as `zstd/<name>:1` and writes a one-volume system using it; returns build options. */
async function pushSystem(
  name: string,
  layers: LayerInput[],
): Promise<{ options: BuildOptions; lower: string; layerDigests: string[] }> {
  const image = await pushImage({
    registry: suite.registry.host,
    repository: `zstd/${name}`,
    tag: '1',
    layers,
    format: 'oci',
  });
  const dir = join(suite.work, name);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'system.yml');
  await writeFile(file, `volumes:\n  - name: v\n    image: ${suite.registry.host}/zstd/${name}:1\n`);
  const out = join(dir, 'out');
  const options = { files: [file], out, cacheDir: join(dir, 'cache'), platform: 'linux/amd64', applyOwnership: isRoot };
  return { options, lower: join(out, 'containers', 'volumes', 'v', 'lower'), layerDigests: image.layerDigests };
}

/** Pushes and builds; returns the volume's lower/ directory. */
async function pushAndBuild(name: string, layers: LayerInput[]): Promise<string> {
  const { options, lower } = await pushSystem(name, layers);
  await build(options);
  return lower;
}

const me = isRoot ? {} : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const base: TarEntry[] = [
  { name: 'etc/', type: 'dir' },
  { name: 'etc/motd', content: 'zstd base\n' },
  { name: 'etc/old', content: 'gone' },
];

const cases = [
  { name: 'a zstd layer labelled +zstd', layers: async () => [await zstdLayer(base, zstdType)] },
  // NB: sniffing wins over the media type, in both directions.
  { name: 'a zstd layer labelled +gzip', layers: async () => [await zstdLayer(base, gzipType)] },
  {
    name: 'a gzip layer labelled +zstd',
    layers: async () => [
      { data: gzip(await buildTar(base)), mediaType: zstdType, diffId: sha256(await buildTar(base)) },
    ],
  },
];

for (const c of cases) {
  test(`build: ${c.name}`, async () => {
    const lower = await pushAndBuild(c.name.replaceAll(/[^a-z0-9]+/g, '-'), await c.layers());
    assert.deepEqual(describeTree(await walkTree(lower)), [
      wantDir('etc', 0o755, me),
      wantFile('etc/motd', 'zstd base\n', { mode: 0o644, ...me }),
      wantFile('etc/old', 'gone', { mode: 0o644, ...me }),
    ]);
  });
}

test('build: a gzip base under a multi-frame zstd layer with a skippable frame and a whiteout', async () => {
  const tar = await buildTar(base);
  const top = await buildTar([{ name: 'etc/.wh.old' }, { name: 'etc/motd', content: 'zstd top\n' }]);
  // zstd:chunked puts skippable frames (its table of contents) in the blob; here one leads, one sits between frames.
  const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
  const half = Math.floor(top.length / 2);
  const frames = [
    skippable,
    execFileSync('zstd', ['-q', '-c'], { input: top.subarray(0, half) }),
    skippable,
    execFileSync('zstd', ['-q', '-c'], { input: top.subarray(half) }),
  ];
  const lower = await pushAndBuild('multi-frame', [
    { data: gzip(tar), diffId: sha256(tar) },
    { data: Buffer.concat(frames), mediaType: zstdType, diffId: sha256(top) },
  ]);
  assert.deepEqual(describeTree(await walkTree(lower)), [
    wantDir('etc', 0o755, me),
    wantFile('etc/motd', 'zstd top\n', { mode: 0o644, ...me }),
  ]);
});

test('build: a zstd layer declaring a 2 GiB window fails with LKVOL_LAYER_LIMIT naming the layer, and writes no output', async () => {
  const { options, layerDigests } = await pushSystem('long-window', [await zstdLayer(base, zstdType, ['--long=31'])]);
  await assert.rejects(build(options), (err: unknown) => {
    assert.ok(isLkvolError(err, 'LKVOL_LAYER_LIMIT'), String(err));
    assert.match(
      err.message,
      new RegExp(`^volume "v": layer ${layerDigests[0]}: zstd frame 0 at offset 0 declares a window of 2048 MiB`),
    );
    return true;
  });
  await assert.rejects(stat(options.out), { code: 'ENOENT' });
});
