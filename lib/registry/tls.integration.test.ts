// Tier B: the real registry over HTTPS with a test CA: --ca-cert, certs.d, --insecure-registry, client certs, token
// realms.
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { layerOf, pushImage, type PushedImage } from '../internal/testing/push.js';
import { startRegistry, type TestRegistry } from '../internal/testing/registry.js';
import { createTestPki, type TestPki } from '../internal/testing/tls.js';
import { startTokenIssuer } from '../internal/testing/token-issuer.js';
import { parsePlatform } from '../oci/index.js';
import { parseReference } from '../ref/index.js';
import { createRegistryClient, type RegistryClientOptions } from './client.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const platform = parsePlatform('linux/amd64');
let pki: TestPki;
let otherPki: TestPki;
let secure: TestRegistry;
let image: PushedImage;
/** The seed registry, over http: the image is pushed to it, and the https registries serve its storage. */
const suite = useRegistry({ name: 'tls' });

suite.before(async () => {
  [pki, otherPki] = await Promise.all([createTestPki(), createTestPki()]);
  image = await pushImage({
    registry: suite.registry.host,
    repository: 'tls/img',
    tag: '1',
    layers: [await layerOf({ a: 'over tls' })],
    format: 'oci',
  });
  secure = await startRegistry({
    storageDir: suite.registry.dataDir,
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
  });
});
// secure serves the seed's storage: it stops before that goes.
suite.onTeardown(async () => {
  await secure?.stop();
  await Promise.all([pki?.remove(), otherPki?.remove()]);
});

async function pull(registry: TestRegistry, opts: RegistryClientOptions): Promise<string> {
  const client = createRegistryClient({ retry: { attempts: 1 }, ...opts });
  try {
    const ref = parseReference(`${registry.host}/tls/img:1`);
    const resolved = await client.resolveImage(ref, { platform });
    for await (const _ of await client.openBlob(ref, resolved.manifest.layers[0]!)) void _;
    return resolved.manifestDigest;
  } finally {
    await client.close();
  }
}

/** A certs.d tree with `<host>/<name>` copied from `files`. */
async function certsDir(name: string, host: string, files: Record<string, string>): Promise<string> {
  const dir = join(suite.work, name);
  await mkdir(join(dir, host), { recursive: true });
  for (const [target, source] of Object.entries(files)) await copyFile(source, join(dir, host, target));
  return dir;
}

describe('https registry on loopback', () => {
  const ok = [
    { name: '--ca-cert trusts the test CA', opts: () => ({ caCertFiles: [pki.ca.cert] }) },
    { name: 'caCert as PEM text trusts the test CA', opts: () => ({ caCert: pki.ca.certPem }) },
    {
      name: 'certs.d/<host:port>/ca.crt trusts the test CA',
      opts: async () => ({
        certsDirs: [join(suite.work, 'absent'), await certsDir('certs-ok', secure.host, { 'ca.crt': pki.ca.cert })],
      }),
    },
    { name: '--insecure-registry skips verification', opts: () => ({ insecureRegistries: [secure.host] }) },
  ];
  for (const c of ok) {
    test(`pulls: ${c.name}`, async () => {
      assert.equal(await pull(secure, await c.opts()), image.manifestDigest);
    });
  }

  const refused = [
    { name: 'no CA', opts: async () => ({}) },
    { name: 'another CA', opts: async () => ({ caCertFiles: [otherPki.ca.cert] }) },
    {
      name: 'certs.d of another host',
      opts: async () => ({ certsDirs: [await certsDir('certs-other', '127.0.0.1:1', { 'ca.crt': pki.ca.cert })] }),
    },
  ];
  for (const c of refused) {
    // NB: the server speaks TLS, so there is no fallback to plain HTTP even on loopback.
    test(`refuses, naming the host and --ca-cert: ${c.name}`, async () => {
      await assert.rejects(
        pull(secure, await c.opts()),
        (err: Error & { code?: string; hint?: string; temporary?: boolean }) => {
          assert.equal(err.code, 'LKVOL_REGISTRY_UNAVAILABLE');
          assert.match(err.message, new RegExp(`GET /v2/: certificate of ${secure.host} does not verify`));
          assert.match(err.hint ?? '', /--ca-cert FILE/);
          assert.equal(err.temporary, false);
          return true;
        },
      );
    });
  }

  test('a plain-HTTP loopback registry is reached after the TLS attempt fails', async () => {
    assert.equal(await pull(suite.registry, {}), image.manifestDigest);
  });

  test('a bad --ca-cert file is a usage error naming it', async () => {
    await assert.rejects(pull(secure, { caCertFiles: [pki.server.key] }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'LKVOL_USAGE');
      assert.equal(err.message, `${pki.server.key}: not a PEM file of CA certificates`);
      return true;
    });
  });
});

describe('client certificates from certs.d', () => {
  let mtls: TestRegistry;
  before(async () => {
    mtls = await startRegistry({
      storageDir: suite.registry.dataDir,
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, clientCas: [pki.ca.cert] },
    });
  });
  after(() => mtls?.stop());

  test('client.cert + client.key are presented', async () => {
    const dir = await certsDir('certs-mtls', mtls.host, {
      'ca.crt': pki.ca.cert,
      'client.cert': pki.client.cert,
      'client.key': pki.client.key,
    });
    assert.equal(await pull(mtls, { certsDirs: [dir] }), image.manifestDigest);
  });

  test('without a client certificate the registry refuses the connection', async () => {
    await assert.rejects(pull(mtls, { caCertFiles: [pki.ca.cert] }), { code: 'LKVOL_REGISTRY_UNAVAILABLE' });
  });
});

describe('token realm of an https registry', () => {
  const realms = [
    { name: 'an https realm is used', tls: true, insecure: false, want: 'ok' },
    { name: 'a plain-http realm is refused', tls: false, insecure: false, want: 'LKVOL_REGISTRY_PROTOCOL' },
    // NB: as Docker, --insecure-registry lowers the bar for the realm too.
    { name: 'a plain-http realm is allowed for an --insecure-registry', tls: false, insecure: true, want: 'ok' },
  ];
  for (const c of realms) {
    test(c.name, async (t) => {
      const issuer = await startTokenIssuer({ users: { u: 'realm-pw' }, ...(c.tls ? { tls: pki.server } : {}) });
      t.after(() => issuer.close());
      const registry = await startRegistry({
        storageDir: suite.registry.dataDir,
        token: issuer,
        tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
      });
      t.after(() => registry.stop());
      const opts: RegistryClientOptions = {
        caCertFiles: [pki.ca.cert],
        credentials: () => Promise.resolve({ username: 'u', password: 'realm-pw' }),
        ...(c.insecure ? { insecureRegistries: [registry.host] } : {}),
      };
      if (c.want === 'ok') return assert.equal(await pull(registry, opts), image.manifestDigest);
      await assert.rejects(pull(registry, opts), (err: Error & { code?: string }) => {
        assert.equal(err.code, c.want);
        assert.match(
          err.message,
          /realm http:\/\/127\.0\.0\.1:\d+\/token must be https for a registry reached over https/,
        );
        assert.equal(issuer.requests.length, 0, 'the credentials were not sent');
        return true;
      });
    });
  }
});
