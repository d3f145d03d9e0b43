// Mirrors against real registries: a pull-through cache of the origin, a dead mirror, an empty mirror, an unreachable
// origin.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { startFaultProxy, type FaultProxy } from '../internal/testing/fault-proxy.js';
import { layerOf, pushImage, type PushedImage } from '../internal/testing/push.js';
import { startHttpServer } from '../internal/testing/registry.js';
import { recordingSleep } from '../internal/testing/sleep.js';
import { parseDigest } from '../digest/index.js';
import { parsePlatform } from '../oci/index.js';
import { parseReference, withDigest } from '../ref/index.js';
import { createRegistryClient } from './client.js';
import type { MirrorWarning } from './mirrors.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const origin = useRegistry({ name: 'mirror-origin' });
const empty = useRegistry({ name: 'mirror-empty' });
/** A pull-through cache of the origin (distribution's `proxy:` section). */
const mirror = useRegistry({ name: 'mirror', registry: () => ({ pullThrough: { remoteurl: origin.registry.url } }) });
let originProxy: FaultProxy;
let mirrorProxy: FaultProxy;
let image: PushedImage;
const amd64 = parsePlatform('linux/amd64');

origin.before(async () => {
  [originProxy, mirrorProxy] = await Promise.all([
    startFaultProxy(origin.registry.url, () => ({ kind: 'pass' })),
    startFaultProxy(mirror.registry.url, () => ({ kind: 'pass' })),
  ]);
  image = await pushImage({
    registry: origin.registry.host,
    repository: 'mir/app',
    tag: '1',
    layers: [await layerOf({ a: '1' }), await layerOf({ b: '2' })],
    format: 'oci',
  });
});

after(async () => {
  await Promise.all([originProxy?.close(), mirrorProxy?.close()]);
});

/** A client whose registry `registry` has the mirror `url`; returns the warnings it gave. */
function newClient(t: { after(fn: () => Promise<void>): void }, registry: string, url: string) {
  const warnings: MirrorWarning[] = [];
  const client = createRegistryClient({
    mirrors: [{ registry, url }],
    onWarning: (w) => warnings.push(w),
    retry: { baseDelayMs: 1, sleep: recordingSleep().sleep },
  });
  t.after(() => client.close());
  return { client, warnings };
}

/** Resolves `ref` and reads every layer to EOF. */
async function pullAll(client: ReturnType<typeof createRegistryClient>, ref: string) {
  const r = parseReference(ref);
  const resolved = await client.resolveImage(r, { platform: amd64 });
  for (const l of resolved.manifest.layers) for await (const _ of (await client.openBlob(r, l)) as Readable) void _;
  return resolved;
}

/** Requests lkvol (not the pull-through registry) sent through `p` since `start`. */
const fromLkvol = (p: FaultProxy, start: number) =>
  p.log
    .slice(start)
    .filter((r) => r.headers['user-agent'] === 'lkvol')
    .map((r) => `${r.method} ${r.url}`);

test('mirror: the tag is resolved at the origin; config and layers come from the pull-through mirror', async (t) => {
  const { client, warnings } = newClient(t, originProxy.host, mirrorProxy.origin);
  const [o, m] = [originProxy.log.length, mirrorProxy.log.length];
  const resolved = await pullAll(client, `${originProxy.host}/mir/app:1`);
  assert.equal(resolved.manifestDigest, image.manifestDigest);
  const atOrigin = fromLkvol(originProxy, o);
  assert.ok(atOrigin.includes('GET /v2/mir/app/manifests/1'));
  assert.deepEqual(
    atOrigin.filter((s) => s.includes('/blobs/')),
    [],
  );
  const blobs = [image.configDigest, ...image.layerDigests].map((d) => `GET /v2/mir/app/blobs/${d}`);
  assert.deepEqual(
    fromLkvol(mirrorProxy, m)
      .filter((s) => s.includes('/blobs/'))
      .sort(),
    blobs.sort(),
  );
  assert.deepEqual(warnings, []);
});

test('mirror: a digest-pinned manifest is fetched from the mirror', async (t) => {
  const { client } = newClient(t, originProxy.host, mirrorProxy.origin);
  const [o, m] = [originProxy.log.length, mirrorProxy.log.length];
  const ref = withDigest(parseReference(`${originProxy.host}/mir/app:1`), parseDigest(image.manifestDigest));
  assert.equal((await client.fetchManifest(ref)).digest, image.manifestDigest);
  assert.ok(fromLkvol(mirrorProxy, m).includes(`GET /v2/mir/app/manifests/${image.manifestDigest}`));
  assert.deepEqual(
    fromLkvol(originProxy, o).filter((s) => s.includes('/manifests/')),
    [],
  );
});

/** An origin on a port nobody listens on any more. */
async function closedOrigin(): Promise<string> {
  const s = await startHttpServer(() => undefined);
  await s.close();
  return s.origin;
}

const fallbackCases = [
  { name: 'a dead mirror', mirror: closedOrigin, reason: /ECONNREFUSED|connect/ },
  {
    name: 'a mirror that lacks the blobs (not pull-through)',
    mirror: async () => empty.registry.url,
    reason: /BLOB_UNKNOWN|404/,
  },
];
for (const c of fallbackCases) {
  test(`mirror: ${c.name} falls back to the origin with one warning`, async (t) => {
    const url = await c.mirror();
    const { client, warnings } = newClient(t, originProxy.host, url);
    const o = originProxy.log.length;
    assert.equal((await pullAll(client, `${originProxy.host}/mir/app:1`)).manifestDigest, image.manifestDigest);
    assert.equal(fromLkvol(originProxy, o).filter((s) => s.includes('/blobs/')).length, 3);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.code, 'LKVOL_WARN_MIRROR');
    assert.match(
      warnings[0]!.message,
      new RegExp(`^mirror ${url} of ${originProxy.host} failed, using ${originProxy.host}: `),
    );
    assert.match(warnings[0]!.message, c.reason);
  });
}

test('mirror: with the origin unreachable the tag is resolved at the mirror, with a warning', async (t) => {
  const gone = new URL(await closedOrigin());
  const { client, warnings } = newClient(t, gone.host, mirrorProxy.origin);
  const resolved = await pullAll(client, `${gone.host}/mir/app:1`);
  assert.equal(resolved.manifestDigest, image.manifestDigest);
  assert.deepEqual(
    warnings.map((w) => w.code),
    ['LKVOL_WARN_MIRROR_RESOLVE'],
  );
  assert.equal(
    warnings[0]!.message,
    `${gone.host} is unreachable; resolved ${gone.host}/mir/app:1 at mirror ${mirrorProxy.origin}, which may be stale`,
  );
});
