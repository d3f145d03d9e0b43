// Tier A: node:http servers per case for auth handshakes, retries, redirects and error mapping.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { digestOf } from '../digest/index.js';
import { closeHttpServer, listenOnLoopback } from '../internal/testing/loopback.js';
import { sendRegistryError, startFakeRegistry, type FakeHandler } from '../internal/testing/registry.js';
import { mediaTypes } from '../oci/index.js';
import { parseReference } from '../ref/index.js';
import { createRegistryClient, type RegistryClientOptions } from './client.js';

type Handler = FakeHandler;

const manifestBytes = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: mediaTypes.ociManifest,
    config: { mediaType: mediaTypes.ociConfig, digest: digestOf('{}'), size: 2 },
    layers: [],
  }),
);

function sendManifest(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': mediaTypes.ociManifest, 'content-length': manifestBytes.length });
  res.end(manifestBytes);
}

/** A distribution error with these headers (a challenge, a Retry-After). */
function sendError(res: ServerResponse, status: number, code: string, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  sendRegistryError(res, status, code);
}

/** A fake registry closed after the test. */
async function fakeRegistry(
  t: { after(fn: () => Promise<void>): void },
  routes: Record<string, Handler>,
  ping?: Handler,
) {
  const server = await startFakeRegistry(routes, ping);
  t.after(() => server.close());
  return server;
}

function client(t: { after(fn: () => Promise<void>): void }, opts: RegistryClientOptions = {}) {
  const delays: number[] = [];
  const c = createRegistryClient({
    retry: {
      sleep: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
    },
    ...opts,
  });
  t.after(() => c.close());
  return { c, delays };
}

const creds = { credentials: () => Promise.resolve({ username: 'u', password: 'p' }) };
const basicUP = `Basic ${Buffer.from('u:p').toString('base64')}`;

test('bearer: a token for service and scope is fetched once, shared by parallel requests and reused', async (t) => {
  let tokens = 0;
  const routes: Record<string, Handler> = {
    '/token': (req, res) => {
      tokens++;
      const q = new URL(req.url ?? '', 'http://x').searchParams;
      assert.equal(q.get('service'), 'test-registry');
      assert.equal(q.get('scope'), 'repository:x/y:pull');
      assert.equal(req.headers.authorization, basicUP);
      res.end(JSON.stringify({ token: `t${tokens}` }));
    },
    '/v2/x/y/manifests/1': (req, res) =>
      req.headers.authorization === 'Bearer t1' ? sendManifest(res) : sendError(res, 401, 'UNAUTHORIZED'),
  };
  const server = await fakeRegistry(t, routes, (_req, res) => {
    sendError(res, 401, 'UNAUTHORIZED', {
      'www-authenticate': `Bearer realm="http://${server.host}/token",service="test-registry"`,
    });
  });
  const { c } = client(t, creds);
  const ref = parseReference(`${server.host}/x/y:1`);
  await Promise.all([c.fetchManifest(ref), c.fetchManifest(ref)]);
  const third = await c.fetchManifest(ref);
  assert.equal(third.document.kind, 'manifest');
  assert.equal(tokens, 1);
});

test('bearer: a 401 on the resource fetches a fresh token once', async (t) => {
  let tokens = 0;
  const server = await fakeRegistry(
    t,
    {
      '/token': (_req, res) => res.end(JSON.stringify({ access_token: `t${++tokens}`, expires_in: 300 })),
      '/v2/x/y/manifests/1': (req, res) =>
        req.headers.authorization === 'Bearer t2'
          ? sendManifest(res)
          : sendError(res, 401, 'UNAUTHORIZED', { 'www-authenticate': `Bearer realm="http://${server.host}/token"` }),
    },
    (_req, res) =>
      sendError(res, 401, 'UNAUTHORIZED', { 'www-authenticate': `Bearer realm="http://${server.host}/token"` }),
  );
  const { c } = client(t);
  await c.fetchManifest(parseReference(`${server.host}/x/y:1`));
  assert.equal(tokens, 2);
});

test('bearer: a 401 from the token endpoint is an auth error with a login hint', async (t) => {
  const server = await fakeRegistry(t, { '/token': (_req, res) => sendError(res, 401, 'UNAUTHORIZED') }, (_req, res) =>
    sendError(res, 401, 'UNAUTHORIZED', {
      'www-authenticate': `Bearer realm="http://${server.host}/token",service="s"`,
    }),
  );
  const { c } = client(t, creds);
  await assert.rejects(
    c.fetchManifest(parseReference(`${server.host}/x/y:1`)),
    (err: Error & { code?: string; hint?: string; status?: number }) => {
      assert.equal(err.code, 'LKVOL_REGISTRY_AUTH');
      assert.equal(err.status, 401);
      assert.match(
        err.message,
        new RegExp(
          `^pull ${server.host}/x/y:1: GET http://${server.host}/token\\?service=s&scope=repository%3Ax%2Fy%3Apull: 401 UNAUTHORIZED`,
        ),
      );
      assert.match(err.message, /; the credentials for .* from .* were rejected$/);
      assert.match(err.hint ?? '', new RegExp(`log in again: docker login ${server.host}$`));
      return true;
    },
  );
});

test('bearer: a realm that is not http(s) is a protocol error', async (t) => {
  const server = await fakeRegistry(t, {}, (_req, res) =>
    sendError(res, 401, 'UNAUTHORIZED', { 'www-authenticate': 'Bearer realm="file:///etc/passwd"' }),
  );
  const { c } = client(t);
  await assert.rejects(c.fetchManifest(parseReference(`${server.host}/x/y:1`)), {
    code: 'LKVOL_REGISTRY_PROTOCOL',
    message: /realm file:\/\/\/etc\/passwd must be https/,
  });
});

test('basic: without credentials the 401 is an auth error in the house format', async (t) => {
  const server = await fakeRegistry(
    t,
    { '/v2/x/y/manifests/1': (_req, res) => sendError(res, 401, 'UNAUTHORIZED') },
    (_req, res) => sendError(res, 401, 'UNAUTHORIZED', { 'www-authenticate': 'Basic realm="r"' }),
  );
  const { c } = client(t);
  await assert.rejects(c.fetchManifest(parseReference(`${server.host}/x/y:1`)), {
    code: 'LKVOL_REGISTRY_AUTH',
    message: `pull ${server.host}/x/y:1: GET /v2/x/y/manifests/1: 401 UNAUTHORIZED: unauthorized; no credentials for ${server.host} were found`,
  });
});

test('retry: a 429 is retried after the Retry-After seconds', async (t) => {
  let calls = 0;
  const server = await fakeRegistry(t, {
    '/v2/x/y/manifests/1': (_req, res) =>
      ++calls === 1 ? sendError(res, 429, 'TOOMANYREQUESTS', { 'retry-after': '2' }) : sendManifest(res),
  });
  const { c, delays } = client(t);
  await c.fetchManifest(parseReference(`${server.host}/x/y:1`));
  assert.equal(calls, 2);
  assert.deepEqual(delays, [2000]);
});

test('retry: a persistent 503 gives up after the configured attempts as unavailable', async (t) => {
  let calls = 0;
  const server = await fakeRegistry(t, {
    '/v2/x/y/manifests/1': (_req, res) => (calls++, sendError(res, 503, 'UNAVAILABLE')),
  });
  const { c, delays } = client(t, {
    retry: { attempts: 3, baseDelayMs: 10, jitter: 0, sleep: (ms) => (delays.push(ms), Promise.resolve()) },
  });
  await assert.rejects(c.fetchManifest(parseReference(`${server.host}/x/y:1`)), {
    code: 'LKVOL_REGISTRY_UNAVAILABLE',
    status: 503,
    temporary: true,
  });
  assert.equal(calls, 3);
  assert.deepEqual(delays, [10, 20]);
});

test('retry: a connection reset is retried', async (t) => {
  let calls = 0;
  const server = await fakeRegistry(t, {
    '/v2/x/y/manifests/1': (req, res) => (++calls === 1 ? req.socket.destroy() : sendManifest(res)),
  });
  const { c } = client(t);
  await c.fetchManifest(parseReference(`${server.host}/x/y:1`));
  assert.equal(calls, 2);
});

test('redirect: Authorization goes to the registry origin only, not to another origin', async (t) => {
  const blob = Buffer.from('blob bytes');
  const digest = digestOf(blob);
  const storage = await fakeRegistry(t, { '/blob': (_req, res) => res.end(blob) });
  const server = await fakeRegistry(
    t,
    {
      [`/v2/x/y/blobs/${digest}`]: (req, res) => {
        if (req.headers.authorization !== basicUP) return sendError(res, 401, 'UNAUTHORIZED');
        res.writeHead(307, { location: `/v2/x/y/moved/${digest}` }).end();
      },
      [`/v2/x/y/moved/${digest}`]: (_req, res) =>
        res.writeHead(307, { location: `${storage.origin}/blob?X-Amz-Signature=s3cr3t` }).end(),
    },
    (_req, res) => sendError(res, 401, 'UNAUTHORIZED', { 'www-authenticate': 'Basic realm="r"' }),
  );
  const { c } = client(t, creds);
  const got = await c.fetchBlobBytes(parseReference(`${server.host}/x/y:1`), {
    mediaType: 'application/octet-stream',
    digest,
    size: blob.length,
  });
  assert.deepEqual(got, blob);
  assert.equal(server.seen.find((s) => s.path.startsWith('/v2/x/y/moved/'))?.authorization, basicUP);
  assert.deepEqual(storage.seen, [{ path: '/blob?X-Amz-Signature=s3cr3t', authorization: undefined }]);
});

test('redirect: a failing redirect target is reported with its query redacted', async (t) => {
  const storage = await fakeRegistry(t, { '/blob': (_req, res) => sendError(res, 403, 'DENIED') });
  const digest = digestOf('x');
  const server = await fakeRegistry(t, {
    [`/v2/x/y/blobs/${digest}`]: (_req, res) =>
      res.writeHead(302, { location: `${storage.origin}/blob?sig=s3cr3t` }).end(),
  });
  const { c } = client(t);
  await assert.rejects(
    c.fetchBlobBytes(parseReference(`${server.host}/x/y:1`), { mediaType: 'x', digest, size: 1 }),
    (err: Error & { code?: string; url?: string }) => {
      assert.equal(err.code, 'LKVOL_REGISTRY_AUTH');
      assert.doesNotMatch(`${err.message} ${err.url}`, /s3cr3t/);
      assert.match(err.message, /GET http:\/\/127\.0\.0\.1:\d+\/blob\?sig=REDACTED: 403 DENIED/);
      return true;
    },
  );
});

test('redirect: a redirect loop stops with a protocol error', async (t) => {
  const server = await fakeRegistry(t, {
    '/v2/x/y/manifests/1': (_req, res) => res.writeHead(307, { location: '/v2/x/y/manifests/1' }).end(),
  });
  const { c } = client(t);
  await assert.rejects(c.fetchManifest(parseReference(`${server.host}/x/y:1`)), {
    code: 'LKVOL_REGISTRY_PROTOCOL',
    message: /more than 5 redirects/,
  });
});

test('errors: MANIFEST_UNKNOWN is not found, with the registry code kept', async (t) => {
  const server = await fakeRegistry(t, {
    '/v2/x/y/manifests/2': (_req, res) => sendError(res, 404, 'MANIFEST_UNKNOWN'),
  });
  const { c } = client(t);
  await assert.rejects(c.fetchManifest(parseReference(`${server.host}/x/y:2`)), {
    code: 'LKVOL_REGISTRY_NOT_FOUND',
    registryCode: 'MANIFEST_UNKNOWN',
    method: 'GET',
    message: `pull ${server.host}/x/y:2: GET /v2/x/y/manifests/2: 404 MANIFEST_UNKNOWN: manifest unknown`,
  });
});

test('cancel: aborting the signal stops a hanging request as cancelled', async (t) => {
  const controller = new AbortController();
  const server = await fakeRegistry(t, { '/v2/x/y/manifests/1': () => controller.abort() });
  const { c } = client(t);
  await assert.rejects(c.fetchManifest(parseReference(`${server.host}/x/y:1`), { signal: controller.signal }), {
    code: 'LKVOL_CANCELLED',
  });
});

test('ping: on loopback, plain http is asked beside the https attempt, not after it fails', async (t) => {
  // A plain HTTP registry that leaves a TLS hello unanswered until the plain GET /v2/ has arrived. Sent one
  // after the other, that GET would come only once the liveness timer below had refused the hello.
  let hello: Socket | undefined;
  let tlsRefused = false;
  let pinged = false;
  let pingedBeforeTlsRefused: boolean | undefined;
  const refuse = (socket: Socket) => {
    tlsRefused = true;
    socket.destroy();
  };
  const server = createServer((req, res) => {
    if (req.url === '/v2/') {
      pingedBeforeTlsRefused ??= !tlsRefused;
      pinged = true;
      if (hello !== undefined) refuse(hello);
      return res.end('{}');
    }
    if (req.url === '/v2/x/y/manifests/1') return sendManifest(res);
    sendRegistryError(res, 404, 'NAME_UNKNOWN');
  });
  server.on('clientError', (_err, socket: Socket) => {
    if (pinged) return refuse(socket);
    hello = socket;
    setTimeout(() => refuse(socket), 5000).unref();
  });
  const port = await listenOnLoopback(server, 'fake registry');
  t.after(() => closeHttpServer(server));
  const { c } = client(t);
  const fetched = await c.fetchManifest(parseReference(`127.0.0.1:${port}/x/y:1`));
  assert.equal(fetched.digest, digestOf(manifestBytes));
  assert.equal(pingedBeforeTlsRefused, true, 'the plain ping came while the https attempt still waited');
});
