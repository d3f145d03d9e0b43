// Tests for credential lookup: key matching, files in order, credHelpers > credsStore > auths, helper protocol.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createFakeHelper } from '../internal/testing/cred-helper.js';
import { matchAuthKey } from './auth-file.js';
import { loadCredentials, lookupCredentials, normalizeAuthKey, type CredentialWarning } from './credentials.js';
import { tempDir } from '../internal/testing/temp.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
type T = { after(fn: () => Promise<void>): void };

async function files(t: T, contents: Record<string, unknown>): Promise<string[]> {
  const dir = await tempDir(t, 'creds');
  return Promise.all(
    Object.entries(contents).map(async ([name, body]) => {
      const path = join(dir, name);
      if (body !== undefined) await writeFile(path, typeof body === 'string' ? body : JSON.stringify(body));
      return path;
    }),
  );
}

const auths = {
  '127.0.0.1:5000': { auth: b64('alice:pa:ss') },
  'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') },
  'https://ghcr.io': { username: 'gh', password: 'ghpass' },
  'quay.io': { auth: b64('bob:'), identitytoken: 'refresh-me' },
  'registry.example': { registrytoken: 'raw' },
  'empty.example': {},
};

const lookupCases = [
  {
    name: 'auth is base64 user:password, split at the first colon',
    registry: '127.0.0.1:5000',
    want: { username: 'alice', password: 'pa:ss' },
  },
  {
    name: 'docker.io finds the https://index.docker.io/v1/ key',
    registry: 'docker.io',
    want: { username: 'hubuser', password: 'hubpass' },
  },
  { name: 'a URL key matches its host', registry: 'ghcr.io', want: { username: 'gh', password: 'ghpass' } },
  {
    name: 'an identity token is kept beside the username',
    registry: 'quay.io',
    want: { username: 'bob', password: '', identityToken: 'refresh-me' },
  },
  { name: 'a registry token is kept', registry: 'registry.example', want: { registryToken: 'raw' } },
  { name: 'an empty entry means anonymous', registry: 'empty.example', want: undefined },
  { name: 'an unknown registry means anonymous', registry: 'other.example', want: undefined },
  // NB: the port is part of the key; 127.0.0.1:5001 is another registry.
  { name: 'another port is another registry', registry: '127.0.0.1:5001', want: undefined },
];
for (const c of lookupCases) {
  test(`lookupCredentials: ${c.name}`, () => {
    assert.deepEqual(lookupCredentials(auths, c.registry), c.want);
  });
}

const namespaced = [
  'quay.io',
  'quay.io/org',
  'quay.io/org/repo',
  'https://index.docker.io/v1/',
  'docker.io/library',
  'docker.io',
];
const matchCases = [
  { name: 'the whole repository wins', registry: 'quay.io', repository: 'org/repo', want: 'quay.io/org/repo' },
  { name: 'then the longest namespace', registry: 'quay.io', repository: 'org/other', want: 'quay.io/org' },
  { name: 'then the host', registry: 'quay.io', repository: 'elsewhere/x', want: 'quay.io' },
  { name: 'a prefix must end at a slash', registry: 'quay.io', repository: 'organisation/x', want: 'quay.io' },
  {
    name: 'Docker Hub namespaces work too',
    registry: 'docker.io',
    repository: 'library/alpine',
    want: 'docker.io/library',
  },
  {
    name: 'an exact host key beats the Hub alias',
    registry: 'docker.io',
    repository: 'bitnami/redis',
    want: 'docker.io',
  },
  { name: 'no key', registry: 'ghcr.io', repository: 'x/y', want: undefined },
];
for (const c of matchCases) {
  test(`matchAuthKey: ${c.name}`, () => {
    assert.equal(matchAuthKey(namespaced, c.registry, c.repository), c.want);
  });
}

const keyCases = [
  { input: 'https://index.docker.io/v1/', want: 'docker.io' },
  { input: 'registry-1.docker.io', want: 'docker.io' },
  { input: 'index.docker.io/library/x', want: 'docker.io/library/x' },
  { input: 'http://Host.Example:5000/path', want: 'host.example:5000' },
  { input: 'quay.io/org/', want: 'quay.io/org' },
  { input: '127.0.0.1:5000', want: '127.0.0.1:5000' },
];
for (const c of keyCases) {
  test(`normalizeAuthKey: ${c.input} → ${c.want}`, () => {
    assert.equal(normalizeAuthKey(c.input), c.want);
  });
}

test('lookupCredentials: a malformed auth fails without echoing it', () => {
  assert.throws(
    () => lookupCredentials({ 'r.example': { auth: b64('nocolon') } }, 'r.example', { source: '/x/config.json' }),
    (err: Error & { code?: string }) =>
      err.code === 'LKVOL_REGISTRY_AUTH' &&
      err.message === '/x/config.json: auths["r.example"].auth: must be base64 of user:password',
  );
});

test('loadCredentials: the first file with credentials wins; missing files are skipped', async (t) => {
  const paths = await files(t, {
    absent: undefined,
    'docker.json': { auths: { 'a.example': { auth: b64('docker:1') } } },
    'registry-auth.json': { auths: { 'a.example': { auth: b64('podman:2') }, 'b.example': { auth: b64('podman:3') } } },
  });
  const resolve = await loadCredentials({ files: [...paths, undefined, ''] });
  assert.equal((await resolve('a.example'))?.username, 'docker');
  assert.equal((await resolve('b.example'))?.username, 'podman');
  assert.equal(await resolve('c.example', 'x'), undefined);
  assert.equal((await resolve('b.example'))?.origin, `${paths[2]}: auths["b.example"]`);
});

const badFiles = [
  {
    name: 'invalid JSON (not quoted back: it may hold a secret)',
    body: '{"auths": {"x": {"auth": "c2VjcmV0',
    want: 'not valid JSON',
  },
  { name: 'auths that is not an object', body: '{"auths": []}', want: '"auths" must be an object' },
  {
    name: 'a helper name that is a path',
    body: '{"credsStore": "../../bin/sh"}',
    want: '"credsStore" must be a helper name',
  },
  {
    name: 'credHelpers that is not a map of names',
    body: '{"credHelpers": {"x": 1}}',
    want: '"credHelpers" must map hosts to helper names',
  },
];
for (const c of badFiles) {
  test(`loadCredentials: refuses ${c.name}`, async (t) => {
    const [path] = await files(t, { 'config.json': c.body });
    await assert.rejects(loadCredentials({ files: [path] }), (err: Error & { code?: string; cause?: unknown }) => {
      assert.equal(err.code, 'LKVOL_REGISTRY_AUTH');
      assert.equal(err.message, `credentials file ${path}: ${c.want}`);
      assert.equal(err.cause, undefined);
      return true;
    });
  });
}

test('loadCredentials: credHelpers beats credsStore beats auths, each falling through when it has nothing', async (t) => {
  const helper = await createFakeHelper('lkvoltest', {
    'h.example': { username: 'from-helper', secret: 'helper-secret' },
    's.example': { username: '<token>', secret: 'identity-secret' },
    'https://index.docker.io/v1/': { username: 'hub', secret: 'hub-secret' },
  });
  t.after(() => helper.remove());
  const config = {
    credHelpers: { 'h.example': 'lkvoltest', 'https://index.docker.io/v1/': 'lkvoltest' },
    credsStore: 'lkvoltest',
    auths: { 'h.example': { auth: b64('inline:1') }, 'a.example': { auth: b64('inline:2') } },
  };
  const [path] = await files(t, { 'config.json': config });
  const warnings: CredentialWarning[] = [];
  const resolve = await loadCredentials({
    files: [path],
    helperEnv: { PATH: helper.path },
    onWarning: (w) => warnings.push(w),
  });
  assert.deepEqual(await resolve('h.example'), {
    username: 'from-helper',
    password: 'helper-secret',
    origin: 'docker-credential-lkvoltest',
  });
  assert.deepEqual(await resolve('s.example'), {
    identityToken: 'identity-secret',
    origin: 'docker-credential-lkvoltest',
  });
  assert.equal((await resolve('docker.io', 'library/alpine'))?.username, 'hub');
  // NB: the store has nothing for a.example, so the inline entry of the same file is used.
  assert.equal((await resolve('a.example'))?.username, 'inline');
  await resolve('a.example');
  const asked = (await readFile(helper.log, 'utf8')).trim().split('\n');
  assert.deepEqual(
    asked,
    ['h.example', 's.example', 'https://index.docker.io/v1/', 'a.example'],
    'each server URL is asked once',
  );
  assert.deepEqual(warnings, [
    {
      code: 'LKVOL_WARN_CREDENTIALS',
      message:
        'docker-credential-lkvoltest has no credentials for a.example; trying other credential sources, else pulling anonymously',
    },
  ]);
});

test('loadCredentials: a helper missing from PATH warns and means anonymous', async (t) => {
  const [path] = await files(t, { 'config.json': { credsStore: 'lkvol-absent' } });
  const warnings: CredentialWarning[] = [];
  const resolve = await loadCredentials({
    files: [path],
    helperEnv: { PATH: '/nonexistent' },
    onWarning: (w) => warnings.push(w),
  });
  assert.equal(await resolve('x.example'), undefined);
  assert.deepEqual(
    warnings.map((w) => w.message),
    ['docker-credential-lkvol-absent is not on PATH; trying other credential sources, else pulling anonymously'],
  );
});

const helperFailures = [
  { name: 'a non-zero exit', answer: { fail: 3, stderr: 'boom leaked-secret' }, want: 'exited with 3' },
  {
    name: 'output that is not its JSON',
    answer: { username: '', secret: '' },
    want: 'output is not JSON with "Username" and "Secret"',
  },
];
for (const c of helperFailures) {
  test(`loadCredentials: a helper failing with ${c.name} is an auth error naming it, not quoting it`, async (t) => {
    const helper = await createFakeHelper('lkvoltest', { 'f.example': c.answer });
    t.after(() => helper.remove());
    const [path] = await files(t, { 'config.json': { credHelpers: { 'f.example': 'lkvoltest' } } });
    const resolve = await loadCredentials({ files: [path], helperEnv: { PATH: helper.path } });
    await assert.rejects(resolve('f.example'), (err: Error & { code?: string; hint?: string; cause?: unknown }) => {
      assert.equal(err.code, 'LKVOL_REGISTRY_AUTH');
      assert.equal(err.message, `credential helper docker-credential-lkvoltest (get f.example): ${c.want}`);
      assert.equal(err.cause, undefined);
      assert.doesNotMatch(`${err.message} ${err.hint}`, /leaked-secret/);
      return true;
    });
  });
}
