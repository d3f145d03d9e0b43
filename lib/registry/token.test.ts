// Tier A: token requests a real token service will not vary: refresh POST answered 404, scope widening order, bad
// replies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendRegistryError, startFakeRegistry, type FakeHandler } from '../internal/testing/registry.js';
import { parseReference } from '../ref/index.js';
import { createRegistryClient } from './client.js';
import type { Credentials } from './credentials.js';

type T = { after(fn: () => Promise<void>): void };

/** A registry whose /v2/ asks for a token at /token, a manifest route, and a log of token requests. */
async function setup(t: T, token: FakeHandler, manifest: FakeHandler, credentials: Credentials) {
  const calls: { method: string; query: string; body: string }[] = [];
  const server = await startFakeRegistry(
    {
      '/token': (req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString('utf8')));
        req.on('end', () => {
          calls.push({ method: req.method ?? '', query: new URL(req.url ?? '', 'http://x').search, body });
          token(req, res);
        });
      },
      '/v2/x/y/manifests/1': manifest,
    },
    (_req, res) => {
      res.setHeader('www-authenticate', `Bearer realm="http://${server.host}/token",service="svc"`);
      sendRegistryError(res, 401, 'UNAUTHORIZED');
    },
  );
  t.after(() => server.close());
  const client = createRegistryClient({ credentials: () => Promise.resolve(credentials), retry: { attempts: 1 } });
  t.after(() => client.close());
  return { calls, fetch: () => client.fetchManifest(parseReference(`${server.host}/x/y:1`)) };
}

const notAManifest: FakeHandler = (req, res) =>
  req.headers.authorization === 'Bearer good'
    ? sendRegistryError(res, 404, 'MANIFEST_UNKNOWN')
    : sendRegistryError(res, 401, 'UNAUTHORIZED');

test('refresh token: a realm that answers the POST with 404 gets the GET flow', async (t) => {
  const token: FakeHandler = (req, res) => {
    if (req.method === 'POST') return sendRegistryError(res, 404, 'NOT_FOUND');
    res.end(JSON.stringify({ token: 'good' }));
  };
  const { calls, fetch } = await setup(t, token, notAManifest, { identityToken: 'refresh-secret' });
  // NB: the manifest route answers 404 to a good token, which proves the token was used.
  await assert.rejects(fetch(), { code: 'LKVOL_REGISTRY_NOT_FOUND' });
  assert.deepEqual(
    calls.map((c) => c.method),
    ['POST', 'GET'],
  );
  const form = new URLSearchParams(calls[0]!.body);
  assert.deepEqual(Object.fromEntries(form), {
    grant_type: 'refresh_token',
    refresh_token: 'refresh-secret',
    client_id: 'lkvol',
    scope: 'repository:x/y:pull',
    service: 'svc',
  });
  assert.doesNotMatch(calls[1]!.query, /refresh-secret/);
});

test('insufficient_scope: the token request names the registry scope first, then ours', async (t) => {
  let n = 0;
  const token: FakeHandler = (_req, res) => res.end(JSON.stringify({ token: n++ === 0 ? 'narrow' : 'good' }));
  const manifest: FakeHandler = (req, res) => {
    if (req.headers.authorization === 'Bearer good') return sendRegistryError(res, 404, 'MANIFEST_UNKNOWN');
    const challenge = `Bearer realm="http://${req.headers.host}/token",service="svc",scope="repository:x/y:pull,push",error="insufficient_scope"`;
    res.setHeader('www-authenticate', challenge);
    sendRegistryError(res, 401, 'UNAUTHORIZED');
  };
  const { calls, fetch } = await setup(t, token, manifest, { username: 'u', password: 'p' });
  await assert.rejects(fetch(), { code: 'LKVOL_REGISTRY_NOT_FOUND' });
  assert.deepEqual(
    calls.map((c) => new URLSearchParams(c.query).getAll('scope')),
    [['repository:x/y:pull'], ['repository:x/y:pull,push', 'repository:x/y:pull']],
  );
});

const badReplies = [
  { name: 'a reply that is not JSON', body: 'eyJsecret-token', want: /token response is not JSON$/ },
  { name: 'a reply without a token', body: '{"expires_in": 60}', want: /token response has no token$/ },
  {
    name: 'a reply over the 1 MiB cap',
    body: JSON.stringify({ token: 'x'.repeat(1 << 20) }),
    want: /response body exceeds 1048576 bytes$/,
  },
];
for (const c of badReplies) {
  test(`token reply: ${c.name} is a protocol error that does not quote it`, async (t) => {
    const { fetch } = await setup(t, (_req, res) => res.end(c.body), notAManifest, { username: 'u', password: 'p' });
    await assert.rejects(fetch(), (err: Error & { code?: string; cause?: unknown }) => {
      assert.equal(err.code, 'LKVOL_REGISTRY_PROTOCOL');
      assert.match(err.message, c.want);
      assert.equal(err.cause, undefined);
      return true;
    });
  });
}
