// `format: oci` volumes against a real registry: blobs shared between platforms or listed twice are written once;
// skopeo reads the layout back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { build } from './index.js';
import { layerOf, pushImage, pushIndex, type LayerInput } from '../internal/testing/push.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const suite = useRegistry({ name: 'oci-layout' });

/** Builds a system with one `format: oci` volume of `image`; returns lower/ and the record's layer digests. */
async function buildLayout(name: string, image: string): Promise<{ lower: string; layers: string[] }> {
  const dir = join(suite.work, name);
  await mkdir(dir);
  const file = join(dir, 'system.yml');
  await writeFile(file, `volumes:\n  - name: imgs\n    image: ${suite.registry.host}/${image}\n    format: oci\n`);
  const out = join(dir, 'out');
  const { record } = await build({ files: [file], out, cacheDir: join(dir, 'cache'), platform: 'linux/amd64' });
  return { lower: join(out, 'containers/volumes/imgs/lower'), layers: record.volumes[0]!.layers.map((l) => l.digest) };
}

/** Every blob file of the layout, checked: its name is the sha256 of its bytes. */
async function layoutBlobs(lower: string): Promise<string[]> {
  const dir = join(lower, 'blobs', 'sha256');
  const names = (await readdir(dir)).sort();
  for (const hex of names)
    assert.equal(
      createHash('sha256')
        .update(await readFile(join(dir, hex)))
        .digest('hex'),
      hex,
      `blob ${hex} holds its digest's bytes`,
    );
  return names.map((hex) => `sha256:${hex}`);
}

/** skopeo copies every platform of the layout (its index.json lists one image), reading and verifying each blob. */
async function copyWithSkopeo(lower: string, dest: string): Promise<void> {
  await execa('skopeo', ['copy', '--all', '--insecure-policy', `oci:${lower}`, `oci:${dest}:copy`]);
}

test('two platforms sharing a layer give a layout holding each blob once', async () => {
  const target = { registry: suite.registry.host, repository: 'shared/layers' };
  const shared = await layerOf({ shared: 'both platforms\n' });
  const manifests = [];
  const pushed = [];
  for (const architecture of ['amd64', 'arm64']) {
    const own = await layerOf({ arch: `${architecture}\n` });
    const image = await pushImage({
      ...target,
      tag: architecture,
      layers: [shared, own],
      format: 'oci',
      config: { architecture },
    });
    pushed.push(image);
    manifests.push({
      digest: image.manifestDigest,
      size: image.manifestSize,
      mediaType: image.manifestMediaType,
      platform: { os: 'linux', architecture },
    });
  }
  const index = await pushIndex({ ...target, tag: '1', manifests, format: 'oci' });

  const { lower, layers } = await buildLayout('shared', 'shared/layers:1');

  const sharedDigest = pushed[0]!.layerDigests[0]!;
  assert.equal(pushed[1]!.layerDigests[0], sharedDigest, 'the two manifests list the same first layer');
  const want = [index.digest, ...pushed.flatMap((p) => [p.manifestDigest, p.configDigest, ...p.layerDigests])];
  assert.deepEqual(await layoutBlobs(lower), [...new Set(want)].sort());
  assert.deepEqual(layers.sort(), [...new Set(pushed.flatMap((p) => p.layerDigests))].sort());
  await copyWithSkopeo(lower, join(suite.work, 'shared-copy'));
});

test('a manifest listing one layer twice gives a layout holding it once', async () => {
  const layer: LayerInput = await layerOf({ twice: 'applied twice\n' });
  const image = await pushImage({
    registry: suite.registry.host,
    repository: 'twice/layer',
    tag: '1',
    layers: [layer, layer],
    format: 'oci',
  });
  assert.equal(image.layerDigests[0], image.layerDigests[1]);

  const { lower, layers } = await buildLayout('twice', 'twice/layer:1');

  assert.deepEqual(await layoutBlobs(lower), [image.manifestDigest, image.configDigest, image.layerDigests[0]!].sort());
  assert.deepEqual(layers, [image.layerDigests[0]]);
  await copyWithSkopeo(lower, join(suite.work, 'twice-copy'));
});
