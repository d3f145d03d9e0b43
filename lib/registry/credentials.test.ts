// Tests for credential lookup in a Docker config.json written to a temp dir.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDockerCredentials, lookupCredentials, normalizeAuthKey } from './credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function configFile(t: { after(fn: () => Promise<void>): void }, content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lkvol-creds-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'config.json');
  await writeFile(path, content);
  return path;
}

const auths = {
  '127.0.0.1:5000': { auth: b64('alice:pa:ss') },
  'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') },
  'https://ghcr.io': { username: 'gh', password: 'ghpass' },
  'quay.io': { auth: b64('bob:'), identitytoken: 'refresh-me' },
  'registry.example': { registrytoken: 'raw' },
  'empty.example': {},
};

const cases = [
  { name: 'auth is base64 user:password, split at the first colon', registry: '127.0.0.1:5000', want: { username: 'alice', password: 'pa:ss' } },
  { name: 'docker.io finds the https://index.docker.io/v1/ key', registry: 'docker.io', want: { username: 'hubuser', password: 'hubpass' } },
  { name: 'a URL key matches its host', registry: 'ghcr.io', want: { username: 'gh', password: 'ghpass' } },
  { name: 'an identity token is kept beside the username', registry: 'quay.io', want: { username: 'bob', password: '', identityToken: 'refresh-me' } },
  { name: 'a registry token is kept', registry: 'registry.example', want: { registryToken: 'raw' } },
  { name: 'an empty entry means anonymous', registry: 'empty.example', want: undefined },
  { name: 'an unknown registry means anonymous', registry: 'other.example', want: undefined },
  // NB: the port is part of the key; 127.0.0.1:5001 is another registry.
  { name: 'another port is another registry', registry: '127.0.0.1:5001', want: undefined },
];
for (const c of cases) {
  test(`lookupCredentials: ${c.name}`, () => {
    assert.deepEqual(lookupCredentials(auths, c.registry), c.want);
  });
}

test('lookupCredentials: a key written exactly as the registry beats an alias', () => {
  const both = { 'https://index.docker.io/v1/': { auth: b64('old:x') }, 'docker.io': { auth: b64('new:y') } };
  assert.equal(lookupCredentials(both, 'docker.io')?.username, 'new');
});

test('lookupCredentials: a malformed auth fails without echoing it', () => {
  assert.throws(
    () => lookupCredentials({ 'r.example': { auth: b64('nocolon') } }, 'r.example', '/x/config.json'),
    (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'LKVOL_REGISTRY_AUTH');
      assert.equal((err as Error).message, '/x/config.json: auths["r.example"].auth: must be base64 of user:password');
      return true;
    },
  );
});

const keyCases = [
  { input: 'https://index.docker.io/v1/', want: 'docker.io' },
  { input: 'registry-1.docker.io', want: 'docker.io' },
  { input: 'http://Host.Example:5000/path', want: 'host.example:5000' },
  { input: '127.0.0.1:5000', want: '127.0.0.1:5000' },
];
for (const c of keyCases) {
  test(`normalizeAuthKey: ${c.input} → ${c.want}`, () => {
    assert.equal(normalizeAuthKey(c.input), c.want);
  });
}

test('loadDockerCredentials: reads auths from the given file', async (t) => {
  const path = await configFile(t, JSON.stringify({ auths }));
  const resolve = await loadDockerCredentials(path);
  assert.deepEqual(await resolve('127.0.0.1:5000'), { username: 'alice', password: 'pa:ss' });
  assert.equal(await resolve('nowhere.example'), undefined);
});

test('loadDockerCredentials: a missing file or no path means anonymous', async (t) => {
  const path = await configFile(t, '{}');
  assert.equal(await (await loadDockerCredentials(join(path, '..', 'absent.json')))('docker.io'), undefined);
  assert.equal(await (await loadDockerCredentials(undefined))('docker.io'), undefined);
});

test('loadDockerCredentials: invalid JSON is an auth error naming the file', async (t) => {
  const path = await configFile(t, '{"auths": ');
  await assert.rejects(loadDockerCredentials(path), (err: unknown) => {
    assert.equal((err as { code?: string }).code, 'LKVOL_REGISTRY_AUTH');
    assert.equal((err as Error).message, `docker config ${path}: not valid JSON`);
    return true;
  });
});

test('loadDockerCredentials: auths that is not an object is refused', async (t) => {
  const path = await configFile(t, '{"auths": []}');
  await assert.rejects(loadDockerCredentials(path), { code: 'LKVOL_REGISTRY_AUTH' });
});
