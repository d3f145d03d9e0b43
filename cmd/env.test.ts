// Tests for takeExtraCaCerts and restoreMallocArenaMax: the variables cmd/lkvol.sh hands over.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { restoreMallocArenaMax, takeExtraCaCerts } from './env.js';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('takeExtraCaCerts: a file handed over is put back in NODE_EXTRA_CA_CERTS and its text returned', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lkvol-env-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'extra.pem');
  await writeFile(file, pem);
  const env: Record<string, string | undefined> = { LKVOL_NODE_EXTRA_CA_CERTS: file, PATH: '/bin' };
  const warnings: string[] = [];
  assert.equal(
    takeExtraCaCerts(env, (w) => warnings.push(w)),
    pem,
  );
  assert.deepEqual(env, { NODE_EXTRA_CA_CERTS: file, PATH: '/bin' });
  assert.deepEqual(warnings, []);
});

test('takeExtraCaCerts: nothing handed over (Node loaded NODE_EXTRA_CA_CERTS itself) leaves the environment alone', () => {
  const env = { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' };
  assert.equal(
    takeExtraCaCerts(env, () => assert.fail('no warning')),
    undefined,
  );
  assert.deepEqual(env, { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' });
});

test('takeExtraCaCerts: a file without a PEM certificate is ignored with a warning naming it, as Node does', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lkvol-env-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'empty.pem');
  await writeFile(file, 'not a certificate\n');
  const env: Record<string, string | undefined> = { LKVOL_NODE_EXTRA_CA_CERTS: file };
  const warnings: string[] = [];
  assert.equal(
    takeExtraCaCerts(env, (w) => warnings.push(w)),
    undefined,
  );
  assert.deepEqual(env, { NODE_EXTRA_CA_CERTS: file });
  assert.deepEqual(warnings, [
    `Warning: Ignoring extra certs from \`${file}\`, load failed: no PEM certificate in it\n`,
  ]);
});

test('restoreMallocArenaMax: the MALLOC_ARENA_MAX cmd/lkvol.sh set is unset again, and its marker with it', () => {
  const env: Record<string, string | undefined> = {
    MALLOC_ARENA_MAX: '1',
    LKVOL_MALLOC_ARENA_MAX: 'unset',
    PATH: '/bin',
  };
  restoreMallocArenaMax(env);
  assert.deepEqual(env, { PATH: '/bin' });
});

test("restoreMallocArenaMax: the user's own MALLOC_ARENA_MAX (no marker) is left as it is", () => {
  const env = { MALLOC_ARENA_MAX: '4' };
  restoreMallocArenaMax(env);
  assert.deepEqual(env, { MALLOC_ARENA_MAX: '4' });
});
