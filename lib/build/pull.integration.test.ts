// Pulls during a build, counted at the fault proxy: shared layers once, parallel downloads, HEAD revalidation, --pull,
// --offline.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type BuildOptions } from './index.js';
import { startFaultProxy, type Fault, type FaultProxy } from '../internal/testing/fault-proxy.js';
import { pushTarImage } from '../internal/testing/images.js';
import type { PushedImage } from '../internal/testing/push.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const suite = useRegistry({ name: 'pull' });
let proxy: FaultProxy;
let decide: (req: IncomingMessage) => Fault = () => ({ kind: 'pass' });
const images: Record<string, PushedImage> = {};
const shared = [{ name: 'shared.txt', content: 'in a and b' }];
/** More layers than the --jobs cases allow at once. */
const six = Array.from({ length: 6 }, (_, i) => [{ name: `${i}`, content: `layer ${i}` }]);

suite.before(async () => {
  proxy = await startFaultProxy(suite.registry.url, (req) => decide(req));
  const push = async (name: string, layers: { name: string; content: string }[][]) => {
    images[name] = await pushTarImage({ registry: suite.registry.host, repository: `pl/${name}`, tag: '1', layers });
  };
  await push('a', [shared, [{ name: 'a.txt', content: 'a' }]]);
  await push('b', [shared, [{ name: 'b.txt', content: 'b' }]]);
  await push('six', six);
  await push('move', [[{ name: 'v', content: 'one' }]]);
});

after(async () => {
  await proxy?.close();
});

const twoVolumes =
  'volumes:\n  - name: va\n    image: PROXY/pl/a:1\n  - name: vb\n    image: PROXY/pl/b:1\nonboot:\n  - name: c\n    image: PROXY/pl/a:1\n';

/** A system file in its own directory; each call gets a fresh output, the cache is per `name`. */
const setup = (name: string, yaml: string, extra: Partial<BuildOptions> = {}) =>
  suite.buildOptions(name, yaml.replaceAll('PROXY', proxy.host), {
    out: join(suite.work, name, `out-${proxy.log.length}`),
    applyOwnership: false,
    retry: { baseDelayMs: 1 },
    ...extra,
  });

/** Builds and returns the requests the proxy saw meanwhile, as `METHOD path`. */
async function requestsOf(o: BuildOptions): Promise<string[]> {
  const start = proxy.seen.length;
  await build(o);
  return proxy.seen.slice(start);
}

const count = (seen: string[], s: string) => seen.filter((x) => x === s).length;

test('a layer shared by two volumes and a container is fetched once; each tag is resolved once', async () => {
  decide = () => ({ kind: 'pass' });
  const seen = await requestsOf(await setup('shared', twoVolumes));
  const sharedDigest = images.a!.layerDigests[0]!;
  assert.equal(images.b!.layerDigests[0], sharedDigest);
  assert.equal(seen.filter((s) => s.startsWith('GET ') && s.endsWith(`/blobs/${sharedDigest}`)).length, 1);
  assert.equal(count(seen, 'GET /v2/pl/a/manifests/1'), 1);
});

test('a second build revalidates tags with HEAD and downloads nothing; --pull GETs the tags again', async () => {
  decide = () => ({ kind: 'pass' });
  await build(await setup('revalidate', twoVolumes));
  const again = await requestsOf(await setup('revalidate', twoVolumes));
  assert.deepEqual(again.filter((s) => !s.endsWith('/v2/')).sort(), [
    'HEAD /v2/pl/a/manifests/1',
    'HEAD /v2/pl/b/manifests/1',
  ]);
  const pulled = await requestsOf(await setup('revalidate', twoVolumes, { pull: true }));
  assert.deepEqual(pulled.filter((s) => !s.endsWith('/v2/')).sort(), [
    'GET /v2/pl/a/manifests/1',
    'GET /v2/pl/b/manifests/1',
  ]);
});

test('a tag that moved is noticed by HEAD and its new manifest is used', async () => {
  decide = () => ({ kind: 'pass' });
  const yaml = 'volumes:\n  - name: v\n    image: PROXY/pl/move:1\n';
  const first = await build(await setup('move', yaml));
  const moved = await pushTarImage({
    registry: suite.registry.host,
    repository: 'pl/move',
    tag: '1',
    layers: [[{ name: 'v', content: 'two' }]],
  });
  const o = await setup('move', yaml);
  const start = proxy.seen.length;
  const second = await build(o);
  assert.deepEqual(
    proxy.seen.slice(start).filter((s) => s.includes('/manifests/')),
    ['HEAD /v2/pl/move/manifests/1', 'GET /v2/pl/move/manifests/1'],
  );
  assert.notEqual(first.record.volumes[0]!.digest, second.record.volumes[0]!.digest);
  assert.equal(second.record.volumes[0]!.digest, moved.manifestDigest);
  assert.equal(await readFile(join(o.out, 'containers', 'volumes', 'v', 'lower', 'v'), 'utf8'), 'two');
});

test('--offline builds from a warm cache without a single request', async () => {
  decide = () => ({ kind: 'pass' });
  const online = await build(await setup('offline', twoVolumes));
  const o = await setup('offline', twoVolumes, { offline: true });
  const seen = await requestsOf(o);
  assert.deepEqual(seen, []);
  assert.equal(await readFile(join(o.out, 'containers', 'volumes', 'vb', 'lower', 'b.txt'), 'utf8'), 'b');
  assert.deepEqual(
    (await build(await setup('offline', twoVolumes, { offline: true }))).record.images,
    online.record.images,
  );
});

const offlineMisses = [
  {
    name: 'a cold cache names the tag, and the volume and line that use it',
    prepare: async () => undefined,
    want: (host: string) =>
      new RegExp(
        `^volume "va" \\(.*system\\.yml:3:12\\): pull ${host}/pl/a:1: tag is not in the cache .*\\(--offline\\)$`,
      ),
  },
  {
    name: 'a missing layer names the blob',
    prepare: async (o: BuildOptions) => {
      // Into another OUT: the build under test must need the blob, not reuse the volume.
      await build({ ...o, out: `${o.out}-first`, offline: false });
      const hex = images.a!.layerDigests[1]!.slice('sha256:'.length);
      await rm(join(o.cacheDir, 'v1', 'blobs', 'sha256', hex));
    },
    want: () => new RegExp(`: blob ${images.a!.layerDigests[1]} is not in the cache$`),
  },
];
for (const c of offlineMisses) {
  test(`--offline: ${c.name}`, async () => {
    decide = () => ({ kind: 'pass' });
    const o = await setup(`miss-${offlineMisses.indexOf(c)}`, 'volumes:\n  - name: va\n    image: PROXY/pl/a:1\n', {
      offline: true,
    });
    await c.prepare(o);
    const start = proxy.seen.length;
    await assert.rejects(
      build(o),
      (e: Error & { code?: string; hint?: string }) =>
        e.code === 'LKVOL_REGISTRY_UNAVAILABLE' &&
        c.want(proxy.host).test(e.message) &&
        /without --offline/.test(e.hint ?? ''),
    );
    assert.deepEqual(proxy.seen.slice(start), []);
  });
}

test('--offline with --pull is a usage error', async () => {
  await assert.rejects(build(await setup('both', twoVolumes, { offline: true, pull: true })), {
    code: 'LKVOL_USAGE',
    message: 'build: --offline and --pull contradict each other',
  });
});

/**
 * How long `jobs` open downloads are held before they are let go: the time a limiter that lets more
 * through has to show it (all six requests are made at once without one). A correct limiter passes
 * whatever the timing, so this is no synchronization: a slow machine can only hide a broken limiter.
 */
const limitWindowMs = 100;
/** A limiter stricter than --jobs never opens `jobs` downloads: they are let go after this, to fail, not hang. */
const stuckMs = 5000;
for (const jobs of [2, 4]) {
  test(`--jobs ${jobs}: at most ${jobs} layer downloads are open at once, and ${jobs} with more layers`, async (t) => {
    const layers = new Set(images.six!.layerDigests.map((d) => `/v2/pl/six/blobs/${d}`));
    let asked = 0;
    let open = 0;
    let most = 0;
    const held: (() => void)[] = [];
    const timers: NodeJS.Timeout[] = [];
    t.after(() => timers.forEach(clearTimeout));
    const letGo = () => held.splice(0).forEach((resolve) => resolve());
    decide = (req) => {
      if (!layers.has(req.url ?? '')) return { kind: 'pass' };
      asked++;
      most = Math.max(most, ++open);
      const hold = new Promise<void>((resolve) => held.push(resolve));
      // Held until `jobs` are open at once, or until the last layer is asked for (fewer may be left then).
      if (open === jobs || asked === layers.size) timers.push(setTimeout(letGo, limitWindowMs));
      else timers.push(setTimeout(letGo, stuckMs));
      return { kind: 'pass', hold, onClose: () => open-- };
    };
    await build(await setup(`jobs-${jobs}`, 'volumes:\n  - name: v\n    image: PROXY/pl/six:1\n', { jobs }));
    assert.equal(most, jobs, `most downloads open at once, of ${layers.size} layers`);
    assert.equal(asked, layers.size, 'each layer fetched once');
  });
}

test('a server that ignores Range after a break: the layer is fetched again from byte 0', async () => {
  const path = `/v2/pl/b/blobs/${images.b!.layerDigests[1]}`;
  let n = 0;
  decide = (req) =>
    req.url !== path
      ? { kind: 'pass' }
      : n++ === 0
        ? { kind: 'truncate', after: 20 }
        : { kind: 'pass', drop: ['range'] };
  const start = proxy.log.length;
  const o = await setup('no-range', 'volumes:\n  - name: vb\n    image: PROXY/pl/b:1\n');
  await build(o);
  assert.deepEqual(
    proxy.log
      .slice(start)
      .filter((r) => r.url === path)
      .map((r) => r.headers.range ?? ''),
    ['', 'bytes=20-', ''],
  );
  assert.equal(await readFile(join(o.out, 'containers', 'volumes', 'vb', 'lower', 'b.txt'), 'utf8'), 'b');
});

test('a blob whose bytes are not the layer (a proxy page of the right length) fails as a digest mismatch, not a corrupt layer', async () => {
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'pl/page',
    tag: '1',
    layers: [[{ name: 'p', content: 'x'.repeat(5000) }]],
  });
  const manifest = (await (
    await fetch(`${suite.registry.url}/v2/pl/page/manifests/1`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    })
  ).json()) as { layers: { digest: string; size: number }[] };
  const layer = manifest.layers[0]!;
  // Unpacking starts while the blob downloads: the tar reader sees these bytes before the digest check does.
  const page = Buffer.alloc(layer.size, 'not a layer, a login page of a proxy; ');
  decide = (req) =>
    (req.url ?? '').includes(`/blobs/${layer.digest}`)
      ? {
          kind: 'status',
          status: 200,
          headers: { 'content-type': 'text/html', 'content-length': String(page.length) },
          body: page,
        }
      : { kind: 'pass' };
  try {
    const o = await setup('page', 'volumes:\n  - name: v\n    image: PROXY/pl/page:1\n');
    await assert.rejects(
      build(o),
      (e: Error & { code?: string }) =>
        e.code === 'LKVOL_DIGEST_MISMATCH' && e.message.includes(layer.digest.slice(7, 19)),
    );
  } finally {
    decide = () => ({ kind: 'pass' });
  }
});

test('a layer unpacked while it downloads, whose download starts again from byte 0, is unpacked again from the verified cache', async () => {
  // Random content does not compress: the first megabyte reaches the tar reader before the break.
  const big = randomBytes(3 << 20);
  const pushed = await pushTarImage({
    registry: suite.registry.host,
    repository: 'pl/restart',
    tag: '1',
    layers: [
      [
        { name: 'big', content: big },
        { name: 'after', content: 'after' },
      ],
    ],
  });
  const path = `/v2/pl/restart/blobs/${pushed.layerDigests[0]}`;
  let n = 0;
  decide = (req) =>
    req.url !== path
      ? { kind: 'pass' }
      : n++ === 0
        ? { kind: 'truncate', after: 1 << 20 }
        : { kind: 'pass', drop: ['range'] };
  try {
    const o = await setup('restart', 'volumes:\n  - name: v\n    image: PROXY/pl/restart:1\n');
    await build(o);
    assert.ok((await readFile(join(o.out, 'containers', 'volumes', 'v', 'lower', 'big'))).equals(big));
    assert.equal(await readFile(join(o.out, 'containers', 'volumes', 'v', 'lower', 'after'), 'utf8'), 'after');
    assert.equal(n, 3, 'the cut request, the Range request the proxy answers in full, and a fresh GET');
  } finally {
    decide = () => ({ kind: 'pass' });
  }
});
