// `lkvol inspect` end to end against a real registry, and the registry flags of build and inspect: exit codes and
// output.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jsonLines, runInProcess, type CliRun } from '../lib/internal/testing/run-in-process.js';
import { pushMultiPlatform, pushTarImage } from '../lib/internal/testing/images.js';
import type { PushedImage } from '../lib/internal/testing/push.js';
import { startHttpProxy, type TestProxy } from '../lib/internal/testing/http-proxy.js';
import { useRegistry } from '../lib/internal/testing/use-registry.js';

const suite = useRegistry({ name: 'inspect' });
let proxy: TestProxy;
let app: PushedImage;
let multi: { digest: string };
const label = '{"binds":["/dev:/dev"]}';

suite.before(async () => {
  proxy = await startHttpProxy();
  const config = {
    Entrypoint: ['/bin/app'],
    Cmd: ['--serve'],
    Env: ['PATH=/bin', 'A=1'],
    WorkingDir: '/srv',
    User: '1000',
    Labels: { 'org.mobyproject.config': label },
  };
  app = await pushTarImage({
    registry: suite.registry.host,
    repository: 'in/app',
    tag: '1',
    layers: [[{ name: 'a', content: 'a' }], [{ name: 'b', content: 'b' }]],
    config,
  });
  multi = await pushMultiPlatform({
    registry: suite.registry.host,
    repository: 'in/multi',
    tag: '1',
    architectures: ['amd64', 'arm64'],
  });
});

after(async () => {
  await proxy?.close();
});

function run(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runInProcess(args, {
    env: { HOME: suite.work, LKVOL_CACHE: join(suite.work, 'cache'), ...env },
    cwd: suite.work,
  });
}

test('inspect: a single manifest prints digest, layers and the config summary', async () => {
  const r = await run(['inspect', `${suite.registry.host}/in/app:1`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.ok(lines.includes(`digest      ${app.manifestDigest}`));
  assert.ok(lines.includes('mediaType   application/vnd.oci.image.manifest.v1+json'));
  assert.ok(!r.stdout.includes('platforms'));
  for (const l of [
    'os/arch     linux/amd64',
    'Entrypoint  ["/bin/app"]',
    'Cmd         ["--serve"]',
    'WorkingDir  /srv',
    'Env         PATH=/bin',
    '            A=1',
    `Labels      org.mobyproject.config=${label}`,
    'layers      2',
  ]) {
    assert.ok(lines.includes(l), `missing line ${JSON.stringify(l)} in\n${r.stdout}`);
  }
  for (const d of app.layerDigests)
    assert.match(r.stdout, new RegExp(`^  ${d} +\\d+  application/vnd\\.oci\\.image\\.layer\\.v1\\.tar\\+gzip$`, 'm'));
});

test('inspect --json: an index lists its platforms and the chosen one', async () => {
  const r = await run(['inspect', '--json', '--platform', 'linux/arm64', `${suite.registry.host}/in/multi:1`]);
  assert.equal(r.code, 0, r.stderr);
  const { ok, image } = JSON.parse(r.stdout) as {
    ok: boolean;
    image: Record<string, unknown> & { config: Record<string, unknown>; layers: unknown[] };
  };
  assert.equal(ok, true);
  assert.equal(image.digest, multi.digest);
  assert.equal(image.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.deepEqual(image.platforms, ['linux/amd64', 'linux/arm64']);
  assert.equal(image.platform, 'linux/arm64');
  assert.equal(image.config.architecture, 'arm64');
  assert.equal(image.layers.length, 1);
});

test('inspect: a warning is a text line ending with its code, and with --json an NDJSON line as build writes it', async () => {
  // A single manifest for another platform is used, with a warning.
  const args = ['--platform', 'linux/arm64', `${suite.registry.host}/in/app:1`];
  const text = await run(['inspect', ...args]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stderr, /^warning: pull .*in\/app:1: .*linux\/amd64.* \(LKVOL_WARN_PLATFORM\)$/m);
  const json = await run(['inspect', '--json', ...args]);
  assert.equal(json.code, 0, json.stderr);
  assert.equal((JSON.parse(json.stdout) as { ok: boolean }).ok, true);
  const lines = jsonLines(json.stderr);
  assert.deepEqual(
    lines.map((l) => [l['event'], l['code']]),
    [['warning', 'LKVOL_WARN_PLATFORM']],
  );
  assert.equal(lines[0]?.['message'], /^warning: (.*) \(LKVOL_WARN_PLATFORM\)$/m.exec(text.stderr)?.[1]);
});

const failures = [
  {
    name: 'a platform the index lacks lists those it has (exit 1)',
    args: ['--platform', 'linux/s390x', 'in/multi:1'],
    code: 1,
    want: /no manifest for linux\/s390x: the index has linux\/amd64, linux\/arm64 \(LKVOL_PLATFORM_NOT_FOUND\)/,
  },
  {
    name: 'a malformed --platform is a usage error (exit 2)',
    args: ['--platform', 'linux', 'in/app:1'],
    code: 2,
    want: /invalid platform "linux".*\(LKVOL_USAGE\)/,
  },
  { name: 'an unknown tag is not found (exit 1)', args: ['in/app:nope'], code: 1, want: /LKVOL_REGISTRY_NOT_FOUND/ },
  {
    name: '--offline with an empty cache names the tag (exit 1)',
    args: ['--offline', '--cache', 'EMPTY', 'in/app:1'],
    code: 1,
    want: /tag is not in the cache/,
  },
  {
    name: '--offline with --pull is a usage error (exit 2)',
    args: ['--offline', '--pull', 'in/app:1'],
    code: 2,
    want: /--offline and --pull contradict each other \(LKVOL_USAGE\)/,
  },
  {
    name: 'a bad --mirror is a usage error (exit 2)',
    args: ['--mirror', 'docker.io', 'in/app:1'],
    code: 2,
    want: /--mirror "docker.io": want REGISTRY=URL \(LKVOL_USAGE\)/,
  },
  {
    name: 'two images are a usage error (exit 2)',
    args: ['in/app:1', 'in/app:1'],
    code: 2,
    want: /want exactly one IMAGE, got 2/,
  },
];
for (const c of failures) {
  test(`inspect: ${c.name}`, async () => {
    const args = c.args.map((a) =>
      a.startsWith('in/') ? `${suite.registry.host}/${a}` : a === 'EMPTY' ? join(suite.work, 'empty-cache') : a,
    );
    const r = await run(['inspect', ...args]);
    assert.equal(r.code, c.code, r.stderr);
    assert.match(r.stderr, c.want);
  });
}

test('inspect: HTTPS_PROXY and NO_PROXY from the environment reach the transport', async () => {
  const before = proxy.requests.length;
  assert.equal(
    (
      await run(['inspect', '--pull', `${suite.registry.host}/in/app:1`], {
        HTTP_PROXY: proxy.url,
        https_proxy: proxy.url,
      })
    ).code,
    0,
  );
  assert.ok(proxy.requests.length > before, 'nothing went through the proxy');
  const bypass = proxy.requests.length;
  assert.equal(
    (
      await run(['inspect', '--pull', `${suite.registry.host}/in/app:1`], {
        HTTP_PROXY: proxy.url,
        NO_PROXY: '127.0.0.1',
      })
    ).code,
    0,
  );
  assert.equal(proxy.requests.length, bypass);
});

test('build: --offline --pull exits 2; --offline after an online build works with the registry gone from the file', async () => {
  const file = join(suite.work, 'system.yml');
  await writeFile(file, `volumes:\n  - name: v\n    image: ${suite.registry.host}/in/app:1\n`);
  assert.equal((await run(['build', '--offline', '--pull', '-o', join(suite.work, 'o0'), file])).code, 2);
  assert.equal((await run(['build', '-q', '-o', join(suite.work, 'o1'), file])).code, 0);
  const offline = await run(['build', '-q', '--offline', '-o', join(suite.work, 'o2'), file], {
    HTTP_PROXY: 'http://127.0.0.1:9',
    https_proxy: 'http://127.0.0.1:9',
  });
  assert.equal(offline.code, 0, offline.stderr);
});
