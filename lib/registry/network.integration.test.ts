// Network behaviour against a real registry behind the fault proxy: retries, Retry-After, storms, redirect loops, caps,
// formats.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, test } from 'node:test';
import { startFaultProxy, type Fault, type FaultProxy } from '../internal/testing/fault-proxy.js';
import { layerOf, pushImage, pushIndex, type PushedImage } from '../internal/testing/push.js';
import { recordingSleep } from '../internal/testing/sleep.js';
import { parseDigest } from '../digest/index.js';
import { mediaTypes, parsePlatform } from '../oci/index.js';
import { parseReference } from '../ref/index.js';
import { createRegistryClient, type RegistryClient } from './client.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const suite = useRegistry({ name: 'network' });
let proxy: FaultProxy;
let decide: (req: IncomingMessage) => Fault = () => ({ kind: 'pass' });
let app: PushedImage;
let amd: PushedImage;
let att: PushedImage;
const nested: Record<string, string> = {};

suite.before(async () => {
  proxy = await startFaultProxy(suite.registry.url, (req) => decide(req));
  const at = (repository: string, tag: string) => ({
    registry: suite.registry.host,
    repository,
    tag,
    format: 'oci' as const,
  });
  app = await pushImage({ ...at('net/app', '1'), layers: [await layerOf({ 'a.txt': 'a' })] });
  amd = await pushImage({ ...at('net/nest', 'amd'), layers: [await layerOf({ 'arch.txt': 'amd64' })] });
  att = await pushImage({
    ...at('net/nest', 'att'),
    layers: [await layerOf({ 'sbom.json': '{}' })],
    config: { architecture: 'unknown', os: 'unknown' },
  });
  const entry = (
    digest: string,
    size: number,
    mediaType: string,
    platform = { os: 'linux', architecture: 'amd64' },
  ) => ({ digest, size, mediaType, platform });
  const attestation = {
    ...entry(att.manifestDigest, att.manifestSize, mediaTypes.ociManifest, { os: 'unknown', architecture: 'unknown' }),
    annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
  };
  let inner = await pushIndex({
    ...at('net/nest', 'inner'),
    manifests: [attestation, entry(amd.manifestDigest, amd.manifestSize, mediaTypes.ociManifest)],
  });
  nested.inner = inner.digest;
  for (const tag of ['outer', 'outer2']) {
    inner = await pushIndex({
      ...at('net/nest', tag),
      manifests: [entry(inner.digest, inner.size, mediaTypes.ociIndex)],
    });
    nested[tag] = inner.digest;
  }
});

after(async () => {
  await proxy?.close();
});

/** A client with recorded (instant) backoff: base 10 ms, jitter fixed at +10 %. */
function newClient(): { client: RegistryClient; delays: number[] } {
  const rec = recordingSleep();
  const client = createRegistryClient({
    retry: { baseDelayMs: 10, maxDelayMs: 1000, random: () => 0.5, sleep: rec.sleep },
  });
  return { client, delays: rec.delays };
}

/** Serves `faults` in order to requests for `path`, then passes. */
function faultsFor(path: string, faults: Fault[]): void {
  const queue = [...faults];
  decide = (req) => (req.url === path ? (queue.shift() ?? { kind: 'pass' }) : { kind: 'pass' });
}

const appManifest = '/v2/net/app/manifests/1';
const status = (s: number, headers: Record<string, string> = {}): Fault => ({ kind: 'status', status: s, headers });
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toUTCString();

const retryCases: {
  name: string;
  faults: Fault[];
  delays?: (d: number[]) => boolean;
  error?: RegExp;
  status?: number;
  requests: number;
}[] = [
  {
    name: 'two 503s are retried with doubling backoff and jitter',
    faults: [status(503), status(503)],
    delays: (d) => d.join() === '11,22',
    requests: 3,
  },
  { name: '408 is retried', faults: [status(408)], delays: (d) => d.join() === '11', requests: 2 },
  {
    name: '429 with Retry-After seconds waits that long',
    faults: [status(429, { 'retry-after': '3' })],
    delays: (d) => d.join() === '3000',
    requests: 2,
  },
  // NB: an HTTP date has whole seconds, so "5 s from now" is between 4 and 5 s away.
  {
    name: '429 with an HTTP-date Retry-After waits until then',
    faults: [status(429, { 'retry-after': inSeconds(5) })],
    delays: (d) => d.length === 1 && d[0]! > 3000 && d[0]! <= 5000,
    requests: 2,
  },
  {
    name: 'a Retry-After above the cap waits only the cap (60 s)',
    faults: [status(503, { 'retry-after': '600' })],
    delays: (d) => d.join() === '60000',
    requests: 2,
  },
  {
    name: 'a connection reset before the headers is retried',
    faults: [{ kind: 'reset', after: 0 }],
    delays: (d) => d.join() === '11',
    requests: 2,
  },
  {
    name: 'a 502 storm gives up after 4 tries with the status',
    faults: Array(9).fill(status(502)),
    error: /GET \/v2\/net\/app\/manifests\/1: 502 SERVER_ERROR/,
    status: 502,
    requests: 4,
  },
  {
    name: 'a 429 storm gives up with the rate-limit headers',
    faults: Array(9).fill(status(429, { 'ratelimit-remaining': '0;w=21600' })),
    error: /429 TOO_MANY_REQUESTS \(ratelimit-remaining: 0;w=21600\)/,
    status: 429,
    requests: 4,
  },
  { name: 'a 404 is not retried', faults: [status(404)], error: /404 NOT_FOUND/, status: 404, requests: 1 },
];
for (const c of retryCases) {
  test(`retry: ${c.name}`, async (t) => {
    const { client, delays } = newClient();
    t.after(() => client.close());
    faultsFor(appManifest, c.faults);
    const before = proxy.seen.length;
    const fetching = client.fetchManifest(parseReference(`${proxy.host}/net/app:1`));
    if (c.error === undefined) assert.equal((await fetching).digest, app.manifestDigest);
    else
      await assert.rejects(
        fetching,
        (e: Error & { status?: number }) => c.error!.test(e.message) && e.status === c.status,
      );
    assert.equal(proxy.seen.slice(before).filter((s) => s === `GET ${appManifest}`).length, c.requests);
    if (c.delays !== undefined) assert.ok(c.delays(delays), `delays ${delays.join()}`);
  });
}

test('redirect: a redirect loop is refused after 5 hops', async (t) => {
  const { client } = newClient();
  t.after(() => client.close());
  const blob = `/v2/net/app/blobs/${app.layerDigests[0]}`;
  decide = (req) => (req.url === blob ? { kind: 'redirect', location: `${proxy.origin}${blob}` } : { kind: 'pass' });
  const ref = parseReference(`${proxy.host}/net/app:1`);
  await assert.rejects(
    client.openBlob(ref, { mediaType: mediaTypes.ociLayerGzip, digest: parseDigest(app.layerDigests[0]!), size: 1 }),
    { code: 'LKVOL_REGISTRY_PROTOCOL', message: /more than 5 redirects/ },
  );
});

const capCases = [
  {
    name: 'a manifest over 4 MiB is refused',
    path: '/v2/net/big/manifests/1',
    body: `{"pad":"${'x'.repeat(4 << 20)}"}`,
    error: /response body exceeds 4194304 bytes/,
  },
  {
    name: 'a config descriptor over 4 MiB is refused before it is requested',
    path: '/v2/net/big/manifests/1',
    body: JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.ociManifest,
      config: { mediaType: mediaTypes.ociConfig, digest: `sha256:${'a'.repeat(64)}`, size: 5 << 20 },
      layers: [],
    }),
    error: /descriptor size 5242880 exceeds the 4194304-byte limit/,
  },
];
for (const c of capCases) {
  test(`caps: ${c.name}`, async (t) => {
    const { client } = newClient();
    t.after(() => client.close());
    decide = (req) =>
      req.url === c.path
        ? { kind: 'status', status: 200, headers: { 'content-type': mediaTypes.ociManifest }, body: c.body }
        : { kind: 'pass' };
    const before = proxy.seen.length;
    await assert.rejects(
      client.resolveImage(parseReference(`${proxy.host}/net/big:1`), { platform: parsePlatform('linux/amd64') }),
      { code: 'LKVOL_REGISTRY_PROTOCOL', message: c.error },
    );
    assert.deepEqual(
      proxy.seen.slice(before).filter((s) => s.includes('/blobs/')),
      [],
    );
  });
}

const schema1 = {
  schemaVersion: 1,
  name: 'net/old',
  tag: '1',
  architecture: 'amd64',
  fsLayers: [],
  history: [],
  signatures: [],
};
const schema1Cases = [
  { name: 'signed schema1 by Content-Type', contentType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' },
  { name: 'schema1 by schemaVersion under a generic Content-Type', contentType: 'application/json' },
];
for (const c of schema1Cases) {
  test(`formats: ${c.name} is refused with a clear message`, async (t) => {
    const { client } = newClient();
    t.after(() => client.close());
    decide = (req) =>
      req.url === '/v2/net/old/manifests/1'
        ? { kind: 'status', status: 200, headers: { 'content-type': c.contentType }, body: JSON.stringify(schema1) }
        : { kind: 'pass' };
    await assert.rejects(
      client.resolveImage(parseReference(`${proxy.host}/net/old:1`), { platform: parsePlatform('linux/amd64') }),
      {
        code: 'LKVOL_UNSUPPORTED_MEDIA_TYPE',
        message: /docker schema1 manifests are deprecated and not supported/,
        hint: /push the image again/,
      },
    );
  });
}

test('formats: an index inside an index resolves; the attestation entry is never fetched', async (t) => {
  const { client } = newClient();
  t.after(() => client.close());
  decide = () => ({ kind: 'pass' });
  const before = proxy.seen.length;
  const image = await client.resolveImage(parseReference(`${proxy.host}/net/nest:outer`), {
    platform: parsePlatform('linux/amd64'),
  });
  assert.equal(image.digest, nested.outer);
  assert.equal(image.manifestDigest, amd.manifestDigest);
  assert.deepEqual(image.platform, { os: 'linux', architecture: 'amd64' });
  const seen = proxy.seen.slice(before);
  assert.ok(seen.includes(`GET /v2/net/nest/manifests/${nested.inner}`));
  assert.ok(!seen.some((s) => s.includes(att.manifestDigest)), 'the attestation manifest was fetched');
});

test('formats: indexes nested three deep are refused', async (t) => {
  const { client } = newClient();
  t.after(() => client.close());
  decide = () => ({ kind: 'pass' });
  await assert.rejects(
    client.resolveImage(parseReference(`${proxy.host}/net/nest:outer2`), { platform: parsePlatform('linux/amd64') }),
    {
      code: 'LKVOL_REGISTRY_PROTOCOL',
      message: new RegExp(`indexes nested more than 2 deep \\(index ${nested.inner}\\)`),
    },
  );
});
