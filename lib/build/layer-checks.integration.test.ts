// Layer media types, diff_ids one for one and url-only layers, against a real registry: refusals before any layer is
// applied, and what format: oci copies.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type BuildEvent } from '../index.js';
import { isLkvolError, type ErrorCode } from '../errors.js';
import { mediaTypes } from '../oci/index.js';
import { layerOf, pushImage, type ImageFormat, type LayerInput } from '../internal/testing/push.js';
import { startHttpServer, type TestServer } from '../internal/testing/registry.js';
import { useRegistry } from '../internal/testing/use-registry.js';

// Distribution refuses manifests naming foreign urls by default; Docker Hub accepts them.
const suite = useRegistry({ name: 'layer-checks', registry: { allowForeignUrls: true } });
/** Where url-only layers point; lkvol must never ask it for anything. */
let urlHost: TestServer;
const urlRequests: string[] = [];
let serial = 0;

suite.before(async () => {
  urlHost = await startHttpServer((req, res) => {
    urlRequests.push(req.url ?? '');
    res.writeHead(404).end();
  });
});

after(async () => {
  await urlHost?.close();
});

interface ImageSpec {
  layers: LayerInput[];
  format?: ImageFormat;
  /** Replaces the config's `rootfs.diff_ids` (default: one per layer). */
  diffIds?: string[];
}

/** Pushes the image and builds one volume of it; returns what the build threw (or undefined) and what it left. */
async function buildVolume(image: ImageSpec, volumeFormat: 'filesystem' | 'oci' = 'filesystem') {
  const repository = `checks/i${++serial}`;
  const config = {
    architecture: 'amd64',
    os: 'linux',
    ...(image.diffIds === undefined ? {} : { rootfs: { type: 'layers', diff_ids: image.diffIds } }),
  };
  const pushed = await pushImage({
    registry: suite.registry.host,
    repository,
    tag: '1',
    layers: image.layers,
    format: image.format ?? 'oci',
    config,
  });
  const dir = join(suite.work, repository.replace('/', '-'));
  await mkdir(dir);
  const file = join(dir, 'system.yml');
  const ref = `${suite.registry.host}/${repository}:1`;
  await writeFile(file, `volumes:\n  - name: v\n    image: ${ref}\n    format: ${volumeFormat}\n`);
  const out = join(dir, 'out');
  const cacheDir = join(dir, 'cache');
  const applied: string[] = [];
  const onEvent = (e: BuildEvent) => void (e.kind === 'layer-applied' && applied.push(e.digest));
  const error = await build({ files: [file], out, cacheDir, platform: 'linux/amd64', onEvent }).then(
    () => undefined,
    (e: unknown) => e,
  );
  const cached = (await readdir(join(cacheDir, 'v1', 'blobs', 'sha256')).catch(() => [])).map((hex) => `sha256:${hex}`);
  return { ref, pushed, error, out, dir, lower: join(out, 'containers/volumes/v/lower'), applied, cached };
}

type Built = Awaited<ReturnType<typeof buildVolume>>;

/**
 * The build failed with `code`, its message names everything in `mentions`, and it left no output, no staging and
 * nothing applied.
 */
async function assertRefused(b: Built, code: ErrorCode, mentions: string[]): Promise<void> {
  assert.ok(isLkvolError(b.error, code), `want ${code}, got ${String(b.error)}`);
  for (const m of mentions) assert.ok(b.error.message.includes(m), `message names ${m}: ${b.error.message}`);
  assert.deepEqual(b.applied, [], 'no layer was applied');
  await assert.rejects(stat(b.out), 'no output was promoted');
  assert.deepEqual((await readdir(b.dir)).sort(), ['cache', 'system.yml'], 'no staging directory is left');
}

const tarLayer = (name: string, extra: Partial<LayerInput> = {}) =>
  layerOf({ [name]: `${name}\n` }).then((l) => ({ ...l, ...extra }));
const urlsOf = (name: string) => [`${urlHost.origin}/layers/${name}.tar.gz`];

test('a layer of an unknown media type is refused before any layer is fetched, naming the image, the layer and the type', async () => {
  const b = await buildVolume({
    layers: [await tarLayer('ok'), await tarLayer('blob', { mediaType: 'application/vnd.example.blob' })],
  });
  await assertRefused(b, 'LKVOL_UNSUPPORTED_MEDIA_TYPE', [
    b.ref,
    b.pushed.layerDigests[1]!,
    '"application/vnd.example.blob"',
  ]);
  assert.deepEqual(
    b.cached.filter((d) => b.pushed.layerDigests.includes(d)),
    [],
    'no layer was downloaded',
  );
});

const diffIdCounts = [
  { name: 'fewer diff_ids than layers', layers: 2, diffIds: 1, says: '1 diff_id for 2 layers' },
  { name: 'no diff_ids at all', layers: 1, diffIds: 0, says: '0 diff_ids for 1 layer' },
  { name: 'more diff_ids than layers', layers: 1, diffIds: 2, says: '2 diff_ids for 1 layer' },
];
for (const c of diffIdCounts) {
  test(`a config with ${c.name} is refused before any layer is fetched`, async () => {
    const layers = await Promise.all(Array.from({ length: c.layers }, (_, i) => tarLayer(`f${i}`)));
    const diffIds = Array.from({ length: c.diffIds }, (_, i) => layers[i]?.diffId ?? layers[0]!.diffId);
    const b = await buildVolume({ layers, diffIds });
    await assertRefused(b, 'LKVOL_REGISTRY_PROTOCOL', [b.ref, c.says]);
    assert.deepEqual(
      b.cached.filter((d) => b.pushed.layerDigests.includes(d)),
      [],
      'no layer was downloaded',
    );
  });
}

const urlOnly = [
  {
    name: 'an OCI non-distributable layer',
    format: 'oci' as const,
    mediaType: mediaTypes.ociLayerNondistributableGzip,
  },
  { name: 'a Docker foreign layer', format: 'docker' as const, mediaType: mediaTypes.dockerForeignLayerGzip },
];
for (const c of urlOnly) {
  test(`${c.name} that exists only at its urls is refused before any layer is applied; the urls are never fetched`, async () => {
    const seen = urlRequests.length;
    const foreign = await tarLayer('foreign', { mediaType: c.mediaType, urls: urlsOf('foreign'), unpushed: true });
    const b = await buildVolume({ format: c.format, layers: [await tarLayer('base'), foreign] });
    await assertRefused(b, 'LKVOL_UNSUPPORTED_MEDIA_TYPE', [
      b.ref,
      b.pushed.layerDigests[1]!,
      c.mediaType,
      urlsOf('foreign')[0]!,
      'lkvol does not download from urls',
    ]);
    assert.equal(urlRequests.length, seen, 'nothing was requested from the urls');
  });
}

const fetchable = [
  {
    name: 'an OCI non-distributable layer with urls',
    format: 'oci' as const,
    mediaType: mediaTypes.ociLayerNondistributableGzip,
    urls: true,
  },
  {
    name: 'an OCI non-distributable layer without urls',
    format: 'oci' as const,
    mediaType: mediaTypes.ociLayerNondistributableGzip,
    urls: false,
  },
  {
    name: 'a Docker foreign layer with urls',
    format: 'docker' as const,
    mediaType: mediaTypes.dockerForeignLayerGzip,
    urls: true,
  },
];
for (const c of fetchable) {
  test(`${c.name} that the registry holds is fetched from the registry and unpacked`, async () => {
    const seen = urlRequests.length;
    const foreign = await tarLayer('foreign', {
      mediaType: c.mediaType,
      ...(c.urls ? { urls: urlsOf('foreign') } : {}),
    });
    const b = await buildVolume({ format: c.format, layers: [await tarLayer('base'), foreign] });
    assert.equal(b.error, undefined, String(b.error));
    assert.deepEqual((await readdir(b.lower)).sort(), ['base', 'foreign']);
    assert.deepEqual(b.applied, b.pushed.layerDigests);
    assert.equal(urlRequests.length, seen, 'nothing was requested from the urls');
  });
}

test('format: oci copies layers of any media type and configs of any diff_ids count as they are', async () => {
  const custom = await tarLayer('blob', { mediaType: 'application/vnd.example.blob' });
  const b = await buildVolume({ layers: [custom, await tarLayer('ok')], diffIds: [] }, 'oci');
  assert.equal(b.error, undefined, String(b.error));
  const blobs = await readdir(join(b.lower, 'blobs', 'sha256'));
  for (const d of b.pushed.layerDigests) assert.ok(blobs.includes(d.slice('sha256:'.length)), `layout holds ${d}`);
  assert.deepEqual(
    await readFile(join(b.lower, 'blobs', 'sha256', b.pushed.layerDigests[0]!.slice('sha256:'.length))),
    custom.data,
  );
});

test('format: oci refuses a layer that exists only at its urls, since the layout must hold every blob', async () => {
  const seen = urlRequests.length;
  const foreign = await tarLayer('foreign', {
    mediaType: mediaTypes.ociLayerNondistributableGzip,
    urls: urlsOf('oci'),
    unpushed: true,
  });
  const b = await buildVolume({ layers: [foreign] }, 'oci');
  await assertRefused(b, 'LKVOL_UNSUPPORTED_MEDIA_TYPE', [
    b.ref,
    b.pushed.layerDigests[0]!,
    'lkvol does not download from urls',
  ]);
  assert.equal(urlRequests.length, seen, 'nothing was requested from the urls');
});
