// Tier B: pulls from a real distribution registry — OCI, Docker schema2, indexes, pins, platforms, corruption.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buffer as drain } from 'node:stream/consumers';
import { digestOf } from '../digest/index.js';
import { layerOf, pushImage, pushIndex, type LayerInput, type PushedImage } from '../internal/testing/push.js';
import { mediaTypes, parsePlatform } from '../oci/index.js';
import { parseReference } from '../ref/index.js';
import { createRegistryClient, type RegistryClient } from './client.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const suite = useRegistry({ name: 'client' });
let client: RegistryClient;
const images: Record<string, PushedImage> = {};
const layers: Record<string, LayerInput[]> = {};
let multi: { digest: string };
let multiDocker: { digest: string };

const runtimeConfig = {
  Env: ['PATH=/bin', 'A=1'],
  Entrypoint: ['/bin/app'],
  Cmd: ['--serve'],
  WorkingDir: '/srv',
  Labels: { 'org.mobyproject.config': '{}' },
  User: '1000:1000',
};

/** Pushes image `name` as `img/<repository>:<tag>` (default `img/<name>:1`), a layer per entry of `files`. */
async function push(
  name: string,
  o: {
    format: 'oci' | 'docker';
    config: Record<string, unknown>;
    files: Record<string, string>[];
    at?: { repository: string; tag: string };
  },
): Promise<PushedImage> {
  const { format, config, files, at = { repository: name, tag: '1' } } = o;
  layers[name] = await Promise.all(files.map((f) => layerOf(f)));
  const dockerLayer = format === 'docker' ? { mediaType: mediaTypes.dockerLayerGzip } : {};
  const imageLayers = layers[name].map((l) => ({ ...l, ...dockerLayer }));
  const pushed = await pushImage({
    registry: suite.registry.host,
    repository: `img/${at.repository}`,
    tag: at.tag,
    layers: imageLayers,
    config,
    format,
  });
  images[name] = pushed;
  return pushed;
}

const entry = (
  p: PushedImage,
  platform: { os: string; architecture: string; variant?: string },
  annotations?: Record<string, string>,
) => ({
  digest: p.manifestDigest,
  size: p.manifestSize,
  mediaType: p.manifestMediaType,
  platform,
  ...(annotations === undefined ? {} : { annotations }),
});

suite.before(async () => {
  client = createRegistryClient({ retry: { baseDelayMs: 1 } });
  await push('oci', {
    format: 'oci',
    config: { config: runtimeConfig },
    files: [{ 'a.txt': 'first' }, { 'b.txt': 'second' }],
  });
  await push('docker', { format: 'docker', config: { config: runtimeConfig }, files: [{ 'd.txt': 'docker' }] });
  // Distribution accepts only index entries that exist in the same repository: push them all to img/multi.
  const amd = await push('amd', {
    format: 'oci',
    config: {},
    files: [{ 'arch.txt': 'amd64' }],
    at: { repository: 'multi', tag: 'amd' },
  });
  const arm = await push('arm', {
    format: 'oci',
    config: { architecture: 'arm64', variant: 'v8' },
    files: [{ 'arch.txt': 'arm64' }],
    at: {
      repository: 'multi',
      tag: 'arm',
    },
  });
  const att = await push('att', {
    format: 'oci',
    config: { architecture: 'unknown', os: 'unknown' },
    files: [{ 'sbom.json': '{}' }],
    at: {
      repository: 'multi',
      tag: 'att',
    },
  });
  const attestation = {
    'vnd.docker.reference.type': 'attestation-manifest',
    'vnd.docker.reference.digest': amd.manifestDigest,
  };
  const manifests = [
    entry(att, { os: 'unknown', architecture: 'unknown' }, attestation),
    entry(amd, { os: 'linux', architecture: 'amd64' }),
    entry(arm, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
  ];
  multi = await pushIndex({
    registry: suite.registry.host,
    repository: 'img/multi',
    tag: '1',
    format: 'oci',
    manifests,
  });
  multiDocker = await pushIndex({
    registry: suite.registry.host,
    repository: 'img/multi',
    tag: 'docker',
    format: 'docker',
    manifests: manifests.slice(1),
  });
});

after(async () => {
  await client?.close();
});

const linuxAmd64 = parsePlatform('linux/amd64');

test('resolveImage: an OCI image resolves to its manifest, config and layers', async () => {
  const ref = parseReference(`${suite.registry.host}/img/oci:1`);
  const image = await client.resolveImage(ref, { platform: linuxAmd64 });
  assert.equal(image.digest, images.oci!.manifestDigest);
  assert.equal(image.manifestDigest, images.oci!.manifestDigest);
  assert.equal(digestOf(image.manifestBytes), image.manifestDigest);
  assert.equal(image.manifestMediaType, mediaTypes.ociManifest);
  assert.equal(image.index, undefined);
  assert.equal(image.configDigest, images.oci!.configDigest);
  assert.deepEqual(image.config.config, runtimeConfig);
  assert.deepEqual(
    image.config.rootfs.diff_ids,
    layers.oci!.map((l) => l.diffId),
  );
  assert.deepEqual(image.platform, { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(image.warnings, []);
  for (const [i, layer] of image.manifest.layers.entries())
    assert.deepEqual(await drain(await client.openBlob(ref, layer)), layers.oci![i]!.data);
});

test('resolveImage: a Docker schema2 image resolves with Docker media types', async () => {
  const image = await client.resolveImage(parseReference(`${suite.registry.host}/img/docker:1`), {
    platform: linuxAmd64,
  });
  assert.equal(image.manifestMediaType, mediaTypes.dockerManifest);
  assert.equal(image.manifest.config.mediaType, mediaTypes.dockerConfig);
  assert.equal(image.manifest.layers[0]?.mediaType, mediaTypes.dockerLayerGzip);
  assert.deepEqual(image.config.config?.Entrypoint, ['/bin/app']);
});

const platformCases = [
  {
    name: 'linux/amd64 picks the amd64 manifest',
    platform: 'linux/amd64',
    want: 'amd',
    wantPlatform: { os: 'linux', architecture: 'amd64' },
  },
  {
    name: 'linux/arm64/v8 picks the arm64 manifest',
    platform: 'linux/arm64/v8',
    want: 'arm',
    wantPlatform: { os: 'linux', architecture: 'arm64' },
  },
  {
    name: 'linux/aarch64 is the same as linux/arm64',
    platform: 'linux/aarch64',
    want: 'arm',
    wantPlatform: { os: 'linux', architecture: 'arm64' },
  },
];
for (const c of platformCases) {
  test(`resolveImage: index: ${c.name}`, async () => {
    const image = await client.resolveImage(parseReference(`${suite.registry.host}/img/multi:1`), {
      platform: parsePlatform(c.platform),
    });
    assert.equal(image.digest, multi.digest);
    assert.equal(image.mediaType, mediaTypes.ociIndex);
    assert.equal(image.index?.manifests.length, 3);
    assert.equal(image.manifestDigest, images[c.want]!.manifestDigest);
    assert.deepEqual(image.platform, c.wantPlatform);
    assert.deepEqual(image.warnings, []);
  });
}

test('resolveImage: a Docker manifest list selects like an OCI index', async () => {
  const image = await client.resolveImage(parseReference(`${suite.registry.host}/img/multi:docker`), {
    platform: parsePlatform('linux/arm64'),
  });
  assert.equal(image.digest, multiDocker.digest);
  assert.equal(image.mediaType, mediaTypes.dockerManifestList);
  assert.equal(image.manifestDigest, images.arm!.manifestDigest);
});

test('resolveImage: index: a missing platform lists the platforms that exist', async () => {
  await assert.rejects(
    client.resolveImage(parseReference(`${suite.registry.host}/img/multi:1`), {
      platform: parsePlatform('linux/s390x'),
    }),
    {
      code: 'LKVOL_PLATFORM_NOT_FOUND',
      message:
        `pull ${suite.registry.host}/img/multi:1: ` +
        'no manifest for linux/s390x: the index has linux/amd64, linux/arm64',
    },
  );
});

test('resolveImage: a single manifest for another platform is used with a warning', async () => {
  const image = await client.resolveImage(parseReference(`${suite.registry.host}/img/multi:arm`), {
    platform: linuxAmd64,
  });
  assert.equal(image.manifestDigest, images.arm!.manifestDigest);
  assert.deepEqual(image.platform, { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(image.warnings, [
    `pull ${suite.registry.host}/img/multi:arm: ` +
      'the image is a single manifest for linux/arm64, not linux/amd64; using it anyway',
  ]);
});

test('resolveImage: a digest-pinned reference wins over its tag', async () => {
  const ref = parseReference(`${suite.registry.host}/img/multi:does-not-exist@${multi.digest}`);
  const image = await client.resolveImage(ref, { platform: parsePlatform('linux/arm64') });
  assert.equal(image.digest, multi.digest);
  assert.equal(image.manifestDigest, images.arm!.manifestDigest);
});

const notFoundCases = [
  { name: 'an unknown tag', ref: 'img/oci:nope', registryCode: 'MANIFEST_UNKNOWN' },
  // NB: distribution 2.8 says MANIFEST_UNKNOWN, not NAME_UNKNOWN, for a repository that does not exist.
  { name: 'an unknown repository', ref: 'img/nothing:1', registryCode: 'MANIFEST_UNKNOWN' },
  { name: 'an unknown digest', ref: `img/oci@${digestOf('absent')}`, registryCode: 'MANIFEST_UNKNOWN' },
];
for (const c of notFoundCases) {
  test(`fetchManifest: ${c.name} is not found`, async () => {
    await assert.rejects(client.fetchManifest(parseReference(`${suite.registry.host}/${c.ref}`)), {
      code: 'LKVOL_REGISTRY_NOT_FOUND',
      status: 404,
      registryCode: c.registryCode,
    });
  });
}

test('openBlob: an unknown blob is not found', async () => {
  const ref = parseReference(`${suite.registry.host}/img/oci:1`);
  await assert.rejects(
    client.openBlob(ref, { mediaType: mediaTypes.ociLayerGzip, digest: digestOf('absent'), size: 6 }),
    {
      code: 'LKVOL_REGISTRY_NOT_FOUND',
      registryCode: 'BLOB_UNKNOWN',
    },
  );
});

/** Overwrites a stored blob with different bytes of the same length, as failing storage would. */
async function corruptStoredBlob(digest: string): Promise<void> {
  const hex = digest.slice('sha256:'.length);
  const file = join(suite.registry.dataDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  const bytes = await readFile(file);
  await writeFile(file, Buffer.from(bytes.map((b) => b ^ 0xff)));
}

test('openBlob: a layer corrupted in storage fails with a digest mismatch', async () => {
  const pushed = await push('corrupt-layer', { format: 'oci', config: {}, files: [{ 'c.txt': 'will rot' }] });
  await corruptStoredBlob(pushed.layerDigests[0]!);
  const ref = parseReference(`${suite.registry.host}/img/corrupt-layer:1`);
  const image = await client.resolveImage(ref, { platform: linuxAmd64 });
  await assert.rejects(drain(await client.openBlob(ref, image.manifest.layers[0]!)), {
    code: 'LKVOL_DIGEST_MISMATCH',
    expected: pushed.layerDigests[0],
  });
});

test('resolveImage: a config corrupted in storage fails with a digest mismatch', async () => {
  const pushed = await push('corrupt-config', { format: 'oci', config: {}, files: [{ 'c.txt': 'fine' }] });
  await corruptStoredBlob(pushed.configDigest);
  await assert.rejects(
    client.resolveImage(parseReference(`${suite.registry.host}/img/corrupt-config:1`), { platform: linuxAmd64 }),
    {
      code: 'LKVOL_DIGEST_MISMATCH',
      message: new RegExp(
        `^config ${pushed.configDigest} of ${suite.registry.host}/img/corrupt-config:1: digest mismatch`,
      ),
    },
  );
});
