// Tests for loadRegistryTls: extra CAs add to Node's roots, certs.d layout, client pairs, bad files.
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { rootCertificates } from 'node:tls';
import { createTestPki, type TestPki } from '../internal/testing/tls.js';
import { loadRegistryTls } from './tls.js';

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
  await mkdir(join(pki.dir, 'certs.d', 'r.example:5000'), { recursive: true });
  await copyFile(pki.ca.cert, join(pki.dir, 'certs.d', 'r.example:5000', 'ca.crt'));
  await copyFile(pki.client.cert, join(pki.dir, 'certs.d', 'r.example:5000', 'client.cert'));
  await copyFile(pki.client.key, join(pki.dir, 'certs.d', 'r.example:5000', 'client.key'));
  await mkdir(join(pki.dir, 'certs.d', 'nokey.example'), { recursive: true });
  await copyFile(pki.client.cert, join(pki.dir, 'certs.d', 'nokey.example', 'client.cert'));
  await writeFile(
    join(pki.dir, 'junk.pem'),
    '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n',
  );
});
after(() => pki?.remove());

test('no extra CA leaves Node default trust alone', async () => {
  assert.deepEqual(await loadRegistryTls('r.example:5000', { certsDirs: [join(pki.dir, 'absent')] }), {});
});

test('--ca-cert adds to the bundled roots instead of replacing them (Docker Hub keeps working)', async () => {
  const tls = await loadRegistryTls('any.example', { caCertFiles: [pki.ca.cert] });
  assert.equal(tls.ca?.length, rootCertificates.length + 1);
  assert.equal(tls.ca?.at(-1)?.trim(), pki.ca.certPem.trim());
});

test('certs.d/<host:port>/ gives the CA and the client pair for that registry only', async () => {
  const dirs = { certsDirs: [join(pki.dir, 'certs.d')] };
  const tls = await loadRegistryTls('r.example:5000', dirs);
  assert.equal(tls.ca?.length, rootCertificates.length + 1);
  assert.equal(tls.cert, pki.client.certPem);
  assert.equal(tls.key, pki.client.keyPem);
  assert.deepEqual(await loadRegistryTls('r.example', dirs), {}, 'another port is another directory');
});

const bad = [
  {
    name: 'a key file given as CA',
    src: () => ({ caCertFiles: [pki.ca.key] }),
    code: 'LKVOL_USAGE',
    message: () => `${pki.ca.key}: not a PEM file of CA certificates`,
  },
  {
    name: 'a PEM block that does not parse',
    src: () => ({ caCertFiles: [join(pki.dir, 'junk.pem')] }),
    code: 'LKVOL_USAGE',
    message: () => `${join(pki.dir, 'junk.pem')}: not a PEM file of CA certificates`,
  },
  {
    name: 'a missing CA file',
    src: () => ({ caCertFiles: [join(pki.dir, 'nope.crt')] }),
    code: 'LKVOL_IO',
    message: () =>
      `read TLS file ${join(pki.dir, 'nope.crt')}: ENOENT: no such file or directory, open '${join(pki.dir, 'nope.crt')}'`,
  },
  {
    name: 'a client.cert without client.key',
    src: () => ({ certsDirs: [join(pki.dir, 'certs.d')] }),
    registry: 'nokey.example',
    code: 'LKVOL_USAGE',
    message: () => `${join(pki.dir, 'certs.d', 'nokey.example', 'client.cert')}: client certificate without client.key`,
  },
];
for (const c of bad) {
  test(`refuses ${c.name}`, async () => {
    await assert.rejects(loadRegistryTls(c.registry ?? 'r.example', c.src()), (err: Error & { code?: string }) => {
      assert.equal(err.code, c.code);
      assert.equal(err.message, c.message());
      return true;
    });
  });
}
