// Tier B: the real registry with token auth, tokens issued by the test token service (Basic, refresh, scope, expiry).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { layerOf, pushImage, type PushedImage } from '../internal/testing/push.js';
import { startRegistry } from '../internal/testing/registry.js';
import { startTokenIssuer, type TokenIssuer, type TokenIssuerOptions } from '../internal/testing/token-issuer.js';
import { parsePlatform } from '../oci/index.js';
import { parseReference } from '../ref/index.js';
import { createRegistryClient } from './client.js';
import { loadCredentials, type Credentials } from './credentials.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const platform = parsePlatform('linux/amd64');
const password = 'tok3n-pw';
const identityToken = 'id-token-secret';
/** The images are pushed here; each token registry serves its storage. */
const seed = useRegistry({ name: 'token' });
let images: Record<'one' | 'two', PushedImage>;

seed.before(async () => {
  const layer = await layerOf({ 'f.txt': 'behind a token' });
  const push = (repository: string) =>
    pushImage({ registry: seed.registry.host, repository, tag: '1', layers: [layer], format: 'oci' });
  images = { one: await push('private/one'), two: await push('private/two') };
});

/** A token-auth registry over the seed's storage, its issuer, and a pull helper counting token requests. */
async function tokenRegistry(t: { after(fn: () => Promise<void>): void }, opts: TokenIssuerOptions) {
  const issuer: TokenIssuer = await startTokenIssuer(opts);
  t.after(() => issuer.close());
  const registry = await startRegistry({ storageDir: seed.registry.dataDir, token: issuer });
  t.after(() => registry.stop());
  const pull = async (repo: 'one' | 'two', credentials: Credentials | undefined) => {
    const client = createRegistryClient({ credentials: () => Promise.resolve(credentials) });
    try {
      const ref = parseReference(`${registry.host}/private/${repo}:1`);
      const image = await client.resolveImage(ref, { platform });
      for await (const _ of await client.openBlob(ref, image.manifest.layers[0]!)) void _;
      return image.manifestDigest;
    } finally {
      await client.close();
    }
  };
  return { issuer, registry, pull };
}

const basic = { username: 'lkvol', password };
const scopeOf = (repo: string) => `repository:private/${repo}:pull`;

for (const keyRef of ['x5c', 'kid'] as const) {
  describe(`token auth, JWT key named by ${keyRef}`, () => {
    test('anonymous is denied; Basic credentials get one token for manifest, config and layer', async (t) => {
      const { issuer, pull } = await tokenRegistry(t, { keyRef, users: { lkvol: password } });
      await assert.rejects(
        pull('one', undefined),
        (err: Error & { code?: string }) => err.code === 'LKVOL_REGISTRY_AUTH',
      );
      assert.ok(
        issuer.requests.length >= 1 && issuer.requests.every((r) => r.user === undefined),
        'anonymous token requests',
      );
      issuer.requests.length = 0;
      assert.equal(await pull('one', basic), images.one.manifestDigest);
      assert.deepEqual(issuer.requests, [{ method: 'GET', user: 'lkvol', scopes: [scopeOf('one')], status: 200 }]);
    });
  });
}

describe('token auth flows', () => {
  const opts: TokenIssuerOptions = { users: { lkvol: password }, refreshTokens: { [identityToken]: 'lkvol' } };
  let reg: Awaited<ReturnType<typeof tokenRegistry>>;
  const cleanups: (() => Promise<void>)[] = [];
  before(async () => {
    reg = await tokenRegistry({ after: (fn) => cleanups.push(fn) }, opts);
  });
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  const reset = () => {
    reg.issuer.requests.length = 0;
    delete opts.grant;
    delete opts.exp;
    delete opts.expiresIn;
  };

  test('an identity token is exchanged by the refresh-token POST', async () => {
    reset();
    assert.equal(await reg.pull('one', { identityToken }), images.one.manifestDigest);
    assert.deepEqual(reg.issuer.requests, [{ method: 'POST', user: 'lkvol', scopes: [scopeOf('one')], status: 200 }]);
  });

  test('a wrong password fails at the token endpoint without echoing it', async () => {
    reset();
    await assert.rejects(
      reg.pull('one', { username: 'lkvol', password: 'wrong-pw' }),
      (err: Error & { code?: string; hint?: string }) => {
        assert.equal(err.code, 'LKVOL_REGISTRY_AUTH');
        assert.match(err.message, /token request/);
        assert.doesNotMatch(`${err.message} ${err.hint}`, /wrong-pw|tok3n-pw/);
        return true;
      },
    );
  });

  test('insufficient_scope is retried once with the scope the registry names', async () => {
    reset();
    let calls = 0;
    opts.grant = (_user, scope) => (scope.name === 'private/two' && calls++ === 0 ? [] : scope.actions);
    assert.equal(await reg.pull('two', basic), images.two.manifestDigest);
    assert.deepEqual(
      reg.issuer.requests.map((r) => r.scopes),
      [[scopeOf('two')], [scopeOf('two')]],
    );
  });

  test('a token that never gains the scope fails after one retry, not in a loop', async () => {
    reset();
    opts.grant = () => [];
    await assert.rejects(
      reg.pull('two', basic),
      (err: Error & { code?: string; status?: number }) => err.code === 'LKVOL_REGISTRY_AUTH' && err.status === 401,
    );
    assert.equal(reg.issuer.requests.length, 2);
  });

  test('a token the registry finds expired is replaced once', async () => {
    reset();
    // NB: distribution allows 60 s of clock skew, so "expired" must be older than that.
    let issued = 0;
    opts.exp = () => Math.floor(Date.now() / 1000) + (issued++ === 0 ? -3600 : 300);
    assert.equal(await reg.pull('one', basic), images.one.manifestDigest);
    assert.equal(reg.issuer.requests.length, 2);
  });

  test('a token whose expires_in has passed is fetched again before use', async () => {
    reset();
    // NB: tokens are refreshed 10 s early, so expires_in 5 is stale at once.
    opts.expiresIn = 5;
    assert.equal(await reg.pull('one', basic), images.one.manifestDigest);
    assert.ok(
      reg.issuer.requests.length >= 3,
      `a token per request (manifest, config, layer), got ${reg.issuer.requests.length}`,
    );
  });
});

test('namespaced auths keys: one client uses the account of each namespace, with separate tokens', async (t) => {
  // Each account may pull only its own repository, so a shared transport or token would fail one pull.
  const grant = (user: string | undefined, scope: { name: string; actions: string[] }) =>
    scope.name === `private/${user === 'alice' ? 'one' : user === 'bob' ? 'two' : ''}` ? scope.actions : [];
  const { registry, issuer } = await tokenRegistry(t, { users: { alice: 'a-pw', bob: 'b-pw' }, grant });
  const dir = await seed.tempDir(t, 'ns');
  const auth = (u: string, p: string) => ({ auth: Buffer.from(`${u}:${p}`).toString('base64') });
  await writeFile(
    join(dir, 'auth.json'),
    JSON.stringify({
      auths: {
        [`${registry.host}/private/one`]: auth('alice', 'a-pw'),
        [`${registry.host}/private`]: auth('bob', 'b-pw'),
      },
    }),
  );
  const client = createRegistryClient({ credentials: await loadCredentials({ files: [join(dir, 'auth.json')] }) });
  t.after(() => client.close());
  for (const repo of ['one', 'two'] as const) {
    const resolved = await client.resolveImage(parseReference(`${registry.host}/private/${repo}:1`), { platform });
    assert.equal(resolved.manifestDigest, images[repo].manifestDigest);
  }
  assert.deepEqual(
    issuer.requests.map((r) => r.user),
    ['alice', 'bob'],
  );
});
