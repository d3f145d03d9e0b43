// The CLI with every credentials source against real registries; no secret may reach any output.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { createFakeHelper, type FakeHelper } from '../lib/internal/testing/cred-helper.js';
import { pushTarImage } from '../lib/internal/testing/images.js';
import { startRegistry, type TestRegistry } from '../lib/internal/testing/registry.js';
import { startTokenIssuer, type TokenIssuer } from '../lib/internal/testing/token-issuer.js';
import { runInProcess, type CliRun } from '../lib/internal/testing/run-in-process.js';
import { useRegistry } from '../lib/internal/testing/use-registry.js';

const password = 'basic-s3cret';
const identityToken = 'idtok-s3cret';
const helperOutput = 'helper-out-s3cret';
const secrets = [
  password,
  identityToken,
  helperOutput,
  'wrong-s3cret',
  b64(`ci:${password}`),
  b64('ci:wrong-s3cret'),
  'eyJ' /* any JWT */,
];
/** The seed registry: the image is pushed to it, and basic and token serve its storage. */
const suite = useRegistry({ name: 'cli-creds' });
let basic: TestRegistry;
let issuer: TokenIssuer;
let token: TestRegistry;
let helper: FakeHelper;

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

suite.before(async () => {
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'private/data',
    tag: '1',
    layers: [[{ name: 'p', content: 'private' }]],
  });
  basic = await startRegistry({ storageDir: suite.registry.dataDir, htpasswd: { user: 'ci', password } });
  issuer = await startTokenIssuer({ users: { ci: password }, refreshTokens: { [identityToken]: 'ci' } });
  token = await startRegistry({ storageDir: suite.registry.dataDir, token: issuer });
  helper = await createFakeHelper('lkvoltest', {
    [basic.host]: { username: 'ci', secret: password },
    [token.host]: { fail: 1, stderr: helperOutput },
  });
});

// basic and token serve the seed's storage: they stop before it goes.
suite.onTeardown(async () => {
  for (const r of [token, basic]) await r?.stop();
  await issuer?.close();
  await helper?.remove();
});

const authOf = (host: string, pw = password) => ({ auths: { [host]: { auth: b64(`ci:${pw}`) } } });

interface Case {
  name: string;
  registry: () => TestRegistry;
  /** Files to write under the case's HOME (`~` prefix) or its dir, and env entries (`@` means the case dir). */
  files: (host: string) => Record<string, unknown>;
  env: Record<string, string>;
  want: 'ok' | RegExp;
}

const cases: Case[] = [
  {
    name: '$DOCKER_CONFIG/config.json',
    registry: () => basic,
    files: (h) => ({ 'dc/config.json': authOf(h) }),
    env: { DOCKER_CONFIG: '@/dc' },
    want: 'ok',
  },
  {
    name: '~/.docker/config.json',
    registry: () => basic,
    files: (h) => ({ 'home/.docker/config.json': authOf(h) }),
    env: {},
    want: 'ok',
  },
  {
    name: '$REGISTRY_AUTH_FILE',
    registry: () => basic,
    files: (h) => ({ 'auth.json': authOf(h) }),
    env: { REGISTRY_AUTH_FILE: '@/auth.json' },
    want: 'ok',
  },
  {
    name: '$XDG_RUNTIME_DIR/containers/auth.json',
    registry: () => basic,
    files: (h) => ({ 'run/containers/auth.json': authOf(h) }),
    env: { XDG_RUNTIME_DIR: '@/run' },
    want: 'ok',
  },
  {
    name: '$XDG_CONFIG_HOME/containers/auth.json',
    registry: () => basic,
    files: (h) => ({ 'cfg/containers/auth.json': authOf(h) }),
    env: { XDG_CONFIG_HOME: '@/cfg' },
    want: 'ok',
  },
  {
    name: 'credHelpers on PATH',
    registry: () => basic,
    files: (h) => ({ 'home/.docker/config.json': { credHelpers: { [h]: 'lkvoltest' } } }),
    env: { PATH: 'helper' },
    want: 'ok',
  },
  {
    name: 'credsStore on PATH',
    registry: () => basic,
    files: () => ({ 'home/.docker/config.json': { credsStore: 'lkvoltest' } }),
    env: { PATH: 'helper' },
    want: 'ok',
  },
  {
    name: 'Basic credentials for a token registry',
    registry: () => token,
    files: (h) => ({ 'home/.docker/config.json': authOf(h) }),
    env: {},
    want: 'ok',
  },
  {
    name: 'an identity token (refresh-token POST)',
    registry: () => token,
    files: (h) => ({ 'home/.docker/config.json': { auths: { [h]: { identitytoken: identityToken } } } }),
    env: {},
    want: 'ok',
  },
  {
    name: 'a wrong password',
    registry: () => basic,
    files: (h) => ({ 'home/.docker/config.json': authOf(h, 'wrong-s3cret') }),
    env: {},
    want: /\(LKVOL_REGISTRY_AUTH\)/,
  },
  {
    name: 'a failing helper',
    registry: () => token,
    files: (h) => ({ 'home/.docker/config.json': { credHelpers: { [h]: 'lkvoltest' } } }),
    env: { PATH: 'helper' },
    want: /credential helper docker-credential-lkvoltest \(get 127\.0\.0\.1:\d+\): exited with 1 \(LKVOL_REGISTRY_AUTH\)/,
  },
  {
    name: 'a missing helper (warning, then anonymous)',
    registry: () => basic,
    files: () => ({ 'home/.docker/config.json': { credsStore: 'lkvol-absent' } }),
    env: { PATH: '/nonexistent' },
    want: /^warning: docker-credential-lkvol-absent is not on PATH[\s\S]*\(LKVOL_REGISTRY_AUTH\)/,
  },
];

for (const [i, c] of cases.entries()) {
  test(`credentials from ${c.name}: ${c.want === 'ok' ? 'the build succeeds' : 'the build fails'} and no secret is printed or recorded`, async () => {
    const dir = join(suite.work, `case-${i}`);
    const host = c.registry().host;
    for (const [rel, body] of Object.entries(c.files(host))) {
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await writeFile(join(dir, rel), JSON.stringify(body));
    }
    const env: Record<string, string> = { HOME: join(dir, 'home') };
    for (const [k, v] of Object.entries(c.env)) env[k] = v === 'helper' ? helper.path : v.replace(/^@/, dir);
    const system = join(dir, 'system.yml');
    await writeFile(system, `volumes:\n  - name: v\n    image: ${host}/private/data:1\n`);
    const args = [
      'build',
      '--progress',
      'plain',
      '--certs-dir',
      join(dir, 'certs.d'),
      '-o',
      join(dir, 'out'),
      '--cache',
      join(dir, 'cache'),
      system,
    ];
    const text = await run([...args.slice(0, 1), '--debug', ...args.slice(1)], env);
    const json = await run([...args.slice(0, 1), '--json', ...args.slice(1)], env);
    if (c.want === 'ok') {
      assert.equal(text.code, 0, text.stderr);
      assert.equal(await readFile(join(dir, 'out/containers/volumes/v/lower/p'), 'utf8'), 'private');
      text.stderr += await readFile(join(dir, 'out/lkvol.json'), 'utf8');
    } else {
      assert.equal(text.code, 1, text.stderr);
      assert.match(text.stderr, c.want);
    }
    const outputs = [text.stdout, text.stderr, json.stdout, json.stderr].join('\n');
    for (const secret of secrets) assert.ok(!outputs.includes(secret), `${JSON.stringify(secret)} leaked`);
  });
}

function run(args: string[], env: Record<string, string>): Promise<CliRun> {
  return runInProcess(args, { env, cwd: suite.work });
}
