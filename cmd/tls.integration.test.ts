// The CLI against an HTTPS registry with a test CA: --ca-cert, --certs-dir, --insecure-registry, and the error without
// them.
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { pushTarImage } from '../lib/internal/testing/images.js';
import { startRegistry, type TestRegistry } from '../lib/internal/testing/registry.js';
import { createTestPki, type TestPki } from '../lib/internal/testing/tls.js';
import { runInProcess } from '../lib/internal/testing/run-in-process.js';
import { useRegistry } from '../lib/internal/testing/use-registry.js';

/** The seed registry, over http: the image is pushed to it, and secure serves its storage over https. */
const suite = useRegistry({ name: 'cli-tls' });
let pki: TestPki;
let secure: TestRegistry;
let system: string;

suite.before(async () => {
  pki = await createTestPki();
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'tls/data',
    tag: '1',
    layers: [[{ name: 't', content: 'tls' }]],
  });
  secure = await startRegistry({
    storageDir: suite.registry.dataDir,
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
  });
  system = join(suite.work, 'system.yml');
  await writeFile(system, `volumes:\n  - name: v\n    image: ${secure.host}/tls/data:1\n`);
  await mkdir(join(suite.work, 'certs.d', secure.host), { recursive: true });
  await copyFile(pki.ca.cert, join(suite.work, 'certs.d', secure.host, 'ca.crt'));
});

// secure serves the seed's storage: it stops before that goes.
suite.onTeardown(async () => {
  await secure?.stop();
  await pki?.remove();
});

const cases = [
  { name: '--ca-cert FILE trusts the test CA', flags: () => ['--ca-cert', pki.ca.cert], want: 0 },
  {
    name: '--certs-dir DIR with <host:port>/ca.crt trusts the test CA',
    flags: () => ['--certs-dir', join(suite.work, 'certs.d')],
    want: 0,
  },
  // NB: the CLI runs with cwd `work`, never the test process's own: relative paths must be taken from it.
  {
    name: 'a relative --ca-cert is taken from the working directory',
    flags: () => ['--ca-cert', relative(suite.work, pki.ca.cert)],
    want: 0,
  },
  {
    name: 'a relative --certs-dir is taken from the working directory',
    flags: () => ['--certs-dir', 'certs.d'],
    want: 0,
  },
  { name: '--insecure-registry HOST skips verification', flags: () => ['--insecure-registry', secure.host], want: 0 },
  { name: 'no trust fails naming the host and suggesting --ca-cert', flags: () => [], want: 1 },
];

for (const [i, c] of cases.entries()) {
  test(c.name, async () => {
    const out = join(suite.work, `out-${i}`);
    // NB: an empty --certs-dir keeps the host's /etc/docker/certs.d out of the test.
    const args = [
      'build',
      '-q',
      '--certs-dir',
      join(suite.work, 'empty'),
      ...c.flags(),
      '-o',
      out,
      '--cache',
      join(suite.work, `cache-${i}`),
      system,
    ];
    const { code, stderr } = await runInProcess(args, { env: { HOME: suite.work }, cwd: suite.work });
    assert.equal(code, c.want, stderr);
    if (c.want === 0) return;
    assert.match(
      stderr,
      new RegExp(
        `certificate of ${secure.host} does not verify: .*\\(LKVOL_REGISTRY_UNAVAILABLE\\)\\nhint: trust its CA with --ca-cert FILE or certs\\.d/${secure.host}/ca\\.crt, or pass --insecure-registry ${secure.host}`,
      ),
    );
  });
}
