// Tier A: when lkvol loads a registry's trust (Node's roots and extra CAs: ~20–60 ms each time), and how often.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { closeHttpServer, listenOnLoopback } from '../internal/testing/loopback.js';
import { startFakeRegistry } from '../internal/testing/registry.js';
import { createTestPki, type TestPki } from '../internal/testing/tls.js';
import { parseReference } from '../ref/index.js';
import { createRegistryClient } from './client.js';

/** The `ca` of every SecureContext made while a test runs (how many certificates it was asked to trust). */
const made: number[] = [];
const createSecureContext = tls.createSecureContext;
let pki: TestPki;

before(async () => {
  pki = await createTestPki();
  // Seen through lib's `import { createSecureContext } from 'node:tls'` once synced.
  tls.createSecureContext = (options?: tls.SecureContextOptions) => {
    const context = createSecureContext(options);
    made.push(Array.isArray(options?.ca) ? options.ca.length : -1);
    return context;
  };
  syncBuiltinESMExports();
});

after(async () => {
  tls.createSecureContext = createSecureContext;
  syncBuiltinESMExports();
  await pki.remove();
});

/** A block OpenSSL cannot read, as a hand-edited NODE_EXTRA_CA_CERTS file may hold. */
const unreadable = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';

function client(extraCaCerts: string) {
  return createRegistryClient({ extraCaCerts, retry: { sleep: () => Promise.resolve() } });
}

test('a loopback registry over plain HTTP loads no trust: the TLS probe trusts nothing, and nothing else is made', async (t) => {
  const server = await startFakeRegistry({});
  t.after(() => server.close());
  const c = client(pki.ca.certPem);
  t.after(() => c.close());
  made.length = 0;
  await assert.rejects(c.fetchManifest(parseReference(`${server.host}/x/y:1`)), { code: 'LKVOL_REGISTRY_NOT_FOUND' });
  assert.deepEqual(made, [0], 'one context, trusting no certificate');
  assert.deepEqual(
    server.seen.map((s) => s.path),
    ['/v2/', '/v2/x/y/manifests/1'],
    'the plain ping and the manifest',
  );
});

test('a TLS registry: one trust context for all its connections, trusting extra CAs given unchecked', async (t) => {
  const server: Server = createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (req, res) => {
    if (req.url === '/v2/') return res.end('{}');
    // Slow enough that the parallel requests below need connections of their own.
    setTimeout(() => res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[]}'), 50);
  });
  const port = await listenOnLoopback(server, 'https registry');
  t.after(() => closeHttpServer(server));
  let connections = 0;
  server.on('secureConnection', () => connections++);
  const c = client(unreadable + pki.ca.certPem);
  t.after(() => c.close());
  made.length = 0;
  const refs = [1, 2, 3, 4].map((n) => parseReference(`127.0.0.1:${port}/x/y:${n}`));
  const results = await Promise.allSettled(refs.map((r) => c.fetchManifest(r)));
  for (const r of results)
    assert.equal(r.status === 'rejected' && (r.reason as { code?: string }).code, 'LKVOL_REGISTRY_NOT_FOUND');
  assert.ok(connections >= 3, `probe, ping and parallel requests over ${connections} connections`);
  const trusting = made.filter((n) => n > 0);
  assert.equal(trusting.length, 1, `one context with the roots and the test CA: ${made.join(', ')}`);
  assert.equal(
    trusting[0],
    tls.rootCertificates.length + 2,
    'the roots and both blocks: OpenSSL skips the unreadable one',
  );
});
