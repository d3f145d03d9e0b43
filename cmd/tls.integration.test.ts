// The CLI against an HTTPS registry with a test CA: --ca-cert, --certs-dir, --insecure-registry, NODE_EXTRA_CA_CERTS
// (read by the installed command rather than by Node), and the error without them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { pushTarImage } from '../lib/internal/testing/images.js';
import { startRegistry, type TestRegistry } from '../lib/internal/testing/registry.js';
import { createTestPki, type TestPki } from '../lib/internal/testing/tls.js';
import { runInProcess } from '../lib/internal/testing/run-in-process.js';
import { repoRoot } from '../lib/internal/testing/testdata.js';
import { useRegistry } from '../lib/internal/testing/use-registry.js';

const execFileAsync = promisify(execFile);

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

/**
 * Runs the installed command (cmd/lkvol.sh) with NODE_EXTRA_CA_CERTS set to `extra` (and `more` besides), and a
 * credential helper for the registry that records what it is given of NODE_EXTRA_CA_CERTS, MALLOC_ARENA_MAX and
 * their LKVOL_ hand-overs, then the MALLOC_ARENA_MAX lkvol's own process started with (and finds nothing).
 */
async function buildWithExtraCerts(name: string, extra: string, more: Record<string, string> = {}) {
  const dir = join(suite.work, name);
  await mkdir(join(dir, 'bin'), { recursive: true });
  const seen = join(dir, 'helper-env');
  const helper = join(dir, 'bin', 'docker-credential-lkvolenv');
  await writeFile(
    helper,
    [
      '#!/bin/sh',
      `echo "NODE_EXTRA_CA_CERTS=\${NODE_EXTRA_CA_CERTS-unset} LKVOL_NODE_EXTRA_CA_CERTS=\${LKVOL_NODE_EXTRA_CA_CERTS-unset}" >> '${seen}'`,
      `echo "MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX-unset} LKVOL_MALLOC_ARENA_MAX=\${LKVOL_MALLOC_ARENA_MAX-unset}" >> '${seen}'`,
      `echo "lkvol's: $(tr '\\0' '\\n' < /proc/$PPID/environ | grep '^MALLOC_ARENA_MAX=')" >> '${seen}'`,
      "echo 'credentials not found in native keychain'",
      'exit 1',
      '',
    ].join('\n'),
  );
  await chmod(helper, 0o755);
  await writeFile(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [secure.host]: 'lkvolenv' } }));
  const env = {
    HOME: dir,
    DOCKER_CONFIG: dir,
    PATH: `${join(dir, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`,
    NODE_EXTRA_CA_CERTS: extra,
    ...more,
  };
  const args = [
    'build',
    '-q',
    '--certs-dir',
    join(dir, 'empty'),
    '-o',
    join(dir, 'out'),
    '--cache',
    join(dir, 'c'),
    system,
  ];
  const r = await execFileAsync(join(repoRoot(), 'cmd', 'lkvol.sh'), args, { env, cwd: dir }).then(
    (ok) => ({ code: 0, stderr: ok.stderr }),
    (err: { code?: number; stderr?: string }) => ({ code: err.code ?? -1, stderr: err.stderr ?? '' }),
  );
  return { ...r, helperSaw: await readFile(seen, 'utf8').catch(() => '') };
}

test('NODE_EXTRA_CA_CERTS, read by lkvol instead of by Node at start-up, trusts the test CA; the programs lkvol starts see it as set', async () => {
  const r = await buildWithExtraCerts('extra-ca', pki.ca.cert);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.helperSaw,
    `NODE_EXTRA_CA_CERTS=${pki.ca.cert} LKVOL_NODE_EXTRA_CA_CERTS=unset\n` +
      `MALLOC_ARENA_MAX=unset LKVOL_MALLOC_ARENA_MAX=unset\nlkvol's: MALLOC_ARENA_MAX=1\n`,
  );
});

test("MALLOC_ARENA_MAX the user set is lkvol's and its programs' as it was", async () => {
  const r = await buildWithExtraCerts('arenas', pki.ca.cert, { MALLOC_ARENA_MAX: '4' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.helperSaw, /^MALLOC_ARENA_MAX=4 LKVOL_MALLOC_ARENA_MAX=unset\nlkvol's: MALLOC_ARENA_MAX=4\n$/m);
});

test("NODE_EXTRA_CA_CERTS naming no file: Node's warning, and the registry it would have vouched for is refused", async () => {
  const missing = join(suite.work, 'no-such-ca.crt');
  const r = await buildWithExtraCerts('extra-ca-missing', missing);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^Warning: Ignoring extra certs from \`${missing}\`, load failed: .*ENOENT`, 'm'));
  assert.match(r.stderr, new RegExp(`certificate of ${secure.host} does not verify`));
  assert.equal(
    r.helperSaw,
    `NODE_EXTRA_CA_CERTS=${missing} LKVOL_NODE_EXTRA_CA_CERTS=unset\n` +
      `MALLOC_ARENA_MAX=unset LKVOL_MALLOC_ARENA_MAX=unset\nlkvol's: MALLOC_ARENA_MAX=1\n`,
  );
});
