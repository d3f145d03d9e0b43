// Tier B: an htpasswd-protected real registry, credentials read from a temp Docker config.json.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { layerOf, pushImage, type LayerInput, type PushedImage } from '../internal/testing/push.js';
import { parsePlatform } from '../oci/index.js';
import { parseReference } from '../ref/index.js';
import { createRegistryClient } from './client.js';
import { loadDockerCredentials } from './credentials.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const user = { user: 'lkvol', password: 's3cret-pw' };
const suite = useRegistry({ name: 'auth', registry: { htpasswd: user } });
let pushed: PushedImage;
let layer: LayerInput;

suite.before(async () => {
  layer = await layerOf({ 'secret.txt': 'only for lkvol' });
  pushed = await pushImage({
    registry: suite.registry.host,
    repository: 'private/img',
    tag: '1',
    layers: [layer],
    format: 'oci',
    auth: user,
  });
});

async function dockerConfig(name: string, auths: Record<string, unknown>): Promise<string> {
  const path = join(suite.work, `${name}.json`);
  await writeFile(path, JSON.stringify({ auths }));
  return path;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const platform = parsePlatform('linux/amd64');

test('auth: credentials from config.json pull the manifest, config and layer', async (t) => {
  const path = await dockerConfig('good', { [suite.registry.host]: { auth: b64(`${user.user}:${user.password}`) } });
  const client = createRegistryClient({ credentials: await loadDockerCredentials(path) });
  t.after(() => client.close());
  const ref = parseReference(`${suite.registry.host}/private/img:1`);
  const image = await client.resolveImage(ref, { platform });
  assert.equal(image.manifestDigest, pushed.manifestDigest);
  const chunks: Buffer[] = [];
  for await (const c of await client.openBlob(ref, image.manifest.layers[0]!)) chunks.push(c as Buffer);
  assert.deepEqual(Buffer.concat(chunks), layer.data);
});

test('auth: username/password fields work like auth', async (t) => {
  const path = await dockerConfig('fields', {
    [`http://${suite.registry.host}`]: { username: user.user, password: user.password },
  });
  const client = createRegistryClient({ credentials: await loadDockerCredentials(path) });
  t.after(() => client.close());
  assert.equal(
    (await client.fetchManifest(parseReference(`${suite.registry.host}/private/img:1`))).digest,
    pushed.manifestDigest,
  );
});

test('auth: without credentials the pull fails with a login hint', async (t) => {
  const path = await dockerConfig('other', { 'elsewhere.example': { auth: b64('a:b') } });
  const client = createRegistryClient({ credentials: await loadDockerCredentials(path) });
  t.after(() => client.close());
  await assert.rejects(
    client.resolveImage(parseReference(`${suite.registry.host}/private/img:1`), { platform }),
    (err: Error & { code?: string; hint?: string; status?: number }) => {
      assert.equal(err.code, 'LKVOL_REGISTRY_AUTH');
      assert.equal(err.status, 401);
      assert.equal(
        err.message,
        `pull ${suite.registry.host}/private/img:1: GET /v2/private/img/manifests/1: 401 UNAUTHORIZED: ` +
          `authentication required; no credentials for ${suite.registry.host} were found`,
      );
      assert.equal(err.hint?.startsWith(`run "docker login ${suite.registry.host}"`), true);
      return true;
    },
  );
});

test('auth: a wrong password fails as an auth error naming where the refused credentials came from, and is not echoed', async (t) => {
  const path = await dockerConfig('bad', { [suite.registry.host]: { auth: b64(`${user.user}:wrong-pw`) } });
  const client = createRegistryClient({ credentials: await loadDockerCredentials(path) });
  t.after(() => client.close());
  await assert.rejects(
    client.fetchManifest(parseReference(`${suite.registry.host}/private/img:1`)),
    (err: Error & { code?: string; hint?: string }) => {
      assert.equal(err.code, 'LKVOL_REGISTRY_AUTH');
      assert.ok(
        err.message.endsWith(
          `; the credentials for ${suite.registry.host} from ${path}: auths["${suite.registry.host}"] were rejected`,
        ),
        err.message,
      );
      assert.match(err.hint ?? '', /^check the user and password \(or token\) in .*, or log in again: docker login /);
      assert.doesNotMatch(`${err.message} ${String((err as { hint?: string }).hint)}`, /wrong-pw|s3cret/);
      return true;
    },
  );
});
