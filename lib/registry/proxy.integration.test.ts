// HTTP(S) proxies: pulls from the real registry through a forward proxy, NO_PROXY bypass, a dead proxy.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { startHttpProxy, type TestProxy } from '../internal/testing/http-proxy.js';
import { layerOf, pushImage, type PushedImage } from '../internal/testing/push.js';
import { recordingSleep } from '../internal/testing/sleep.js';
import { parsePlatform } from '../oci/index.js';
import { parseReference } from '../ref/index.js';
import { createRegistryClient } from './client.js';
import type { ProxyOptions } from './dispatcher.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const suite = useRegistry({ name: 'proxy' });
let proxy: TestProxy;
let image: PushedImage;

suite.before(async () => {
  proxy = await startHttpProxy();
  image = await pushImage({
    registry: suite.registry.host,
    repository: 'px/app',
    tag: '1',
    layers: [await layerOf({ 'p.txt': 'proxied' })],
    format: 'oci',
  });
});

after(async () => {
  await proxy?.close();
});

async function pull(p: ProxyOptions, name = `${suite.registry.host}/px/app:1`): Promise<string> {
  const client = createRegistryClient({ proxy: p, retry: { baseDelayMs: 1, sleep: recordingSleep().sleep } });
  try {
    const ref = parseReference(name);
    const resolved = await client.resolveImage(ref, { platform: parsePlatform('linux/amd64') });
    for await (const _ of (await client.openBlob(ref, resolved.manifest.layers[0]!)) as Readable) void _;
    return resolved.manifestDigest;
  } finally {
    await client.close();
  }
}

const cases: { name: string; proxy: () => ProxyOptions; tunnels: boolean }[] = [
  {
    name: 'HTTP_PROXY carries every request (CONNECT to the registry)',
    proxy: () => ({ httpProxy: proxy.url }),
    tunnels: true,
  },
  {
    name: 'HTTPS_PROXY alone carries the https probe; the http fallback goes direct',
    proxy: () => ({ httpsProxy: proxy.url }),
    tunnels: true,
  },
  {
    name: 'NO_PROXY naming the host bypasses the proxy',
    proxy: () => ({ httpProxy: proxy.url, httpsProxy: proxy.url, noProxy: 'example.com, 127.0.0.1' }),
    tunnels: false,
  },
  {
    name: 'NO_PROXY with host:port bypasses the proxy',
    proxy: () => ({ httpProxy: proxy.url, noProxy: suite.registry.host }),
    tunnels: false,
  },
  { name: 'NO_PROXY=* bypasses the proxy', proxy: () => ({ httpProxy: proxy.url, noProxy: '*' }), tunnels: false },
];
for (const c of cases) {
  test(`proxy: ${c.name}`, async () => {
    const before = proxy.requests.length;
    assert.equal(await pull(c.proxy()), image.manifestDigest);
    const relayed = proxy.requests.slice(before);
    if (c.tunnels)
      assert.ok(
        relayed.length > 0 && relayed.every((r) => r === `CONNECT ${suite.registry.host}`),
        relayed.join(' | '),
      );
    else assert.deepEqual(relayed, []);
  });
}

test('proxy: an unreachable proxy is a temporary failure naming the request', async () => {
  const dead = await startHttpProxy();
  await dead.close();
  await assert.rejects(
    pull({ httpProxy: dead.url }),
    (e: Error & { code?: string; temporary?: boolean }) =>
      e.code === 'LKVOL_REGISTRY_UNAVAILABLE' && e.temporary === true && /GET \/v2\//.test(e.message),
  );
});

test('proxy: a proxy refusing the tunnel is a registry failure naming its answer, not a cancellation', async () => {
  const before = proxy.requests.length;
  // The test proxy relays only to loopback, so it answers 403 to this CONNECT and nothing leaves the machine.
  await assert.rejects(
    pull({ httpsProxy: proxy.url }, 'registry.example.com/px/app:1'),
    (e: Error & { code?: string }) =>
      e.code === 'LKVOL_REGISTRY_UNAVAILABLE' &&
      /registry\.example\.com.*GET .*\/v2\/.*Proxy response \(403\)/s.test(e.message),
  );
  assert.deepEqual(proxy.requests.slice(before), ['CONNECT registry.example.com:443']);
});
