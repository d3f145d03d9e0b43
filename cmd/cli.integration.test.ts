// The CLI end to end: exit codes, stdout/stderr, --json, and one run of the real executable.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { jsonLines, runInProcess, type CliRun } from '../lib/internal/testing/run-in-process.js';
import { startRegistry } from '../lib/internal/testing/registry.js';
import { pushTarImage } from '../lib/internal/testing/images.js';
import { pushImage, sha256 } from '../lib/internal/testing/push.js';
import { buildTar } from '../lib/internal/testing/tar.js';
import { startFaultProxy } from '../lib/internal/testing/fault-proxy.js';
import { describeTree, walkTree } from '../lib/internal/testing/tree.js';
import { repoRoot } from '../lib/internal/testing/testdata.js';
import { useRegistry } from '../lib/internal/testing/use-registry.js';

const execFileAsync = promisify(execFile);
const suite = useRegistry({ name: 'cli' });

suite.before(async () => {
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'cli/data',
    tag: '1',
    layers: [[{ name: 'hello', content: 'world' }]],
  });
});

/** Runs the CLI in-process with HOME in the test's work dir. */
function run(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runInProcess(args, { env: { HOME: suite.work, ...env }, cwd: suite.work });
}

async function systemFile(name: string, yaml: string): Promise<string> {
  return (await suite.systemFile(name, yaml)).file;
}

describe('usage', () => {
  const cases = [
    {
      name: 'no arguments prints usage and exits 2',
      args: [],
      code: 2,
      stream: 'stderr',
      want: /^usage: lkvol <command>/,
    },
    { name: '--help exits 0', args: ['--help'], code: 0, stream: 'stdout', want: /commands:\n {2}build/ },
    {
      name: 'build --help lists every flag',
      args: ['build', '--help'],
      code: 0,
      stream: 'stdout',
      want: /--insecure-registry H[\s\S]*--max-entries N/,
    },
    { name: '--version', args: ['--version'], code: 0, stream: 'stdout', want: /^lkvol \d+\.\d+\.\d+\n$/ },
    {
      name: 'unknown command',
      args: ['frobnicate'],
      code: 2,
      stream: 'stderr',
      want: /^lkvol: unknown command "frobnicate" \(LKVOL_USAGE\)\nhint: run "lkvol --help"\n$/,
    },
    {
      name: 'unknown flag',
      args: ['build', '--frob', 'x.yml'],
      code: 2,
      stream: 'stderr',
      want: /^lkvol: build: Unknown option '--frob' \(LKVOL_USAGE\)\nhint: run "lkvol build --help"/,
    },
    {
      name: 'no system file',
      args: ['build'],
      code: 2,
      stream: 'stderr',
      want: /no system file given \(LKVOL_USAGE\)/,
    },
    {
      name: 'bad --jobs',
      args: ['build', '--jobs', '0', 'x.yml'],
      code: 2,
      stream: 'stderr',
      want: /--jobs must be a positive integer, got "0"/,
    },
    {
      name: 'bad --progress',
      args: ['build', '--progress', 'fancy', 'x.yml'],
      code: 2,
      stream: 'stderr',
      want: /--progress must be auto, plain or none/,
    },
    {
      name: 'bad --format',
      args: ['build', '--format', 'zip', 'x.yml'],
      code: 2,
      stream: 'stderr',
      want: /--format must be dir or tar, got "zip"/,
    },
    {
      name: 'bad --platform',
      args: ['build', '--platform', 'linux', 'x.yml'],
      code: 2,
      stream: 'stderr',
      want: /invalid platform "linux"/,
    },
    {
      name: 'SOURCE_DATE_EPOCH must be whole seconds',
      args: ['build', 'x.yml'],
      env: { SOURCE_DATE_EPOCH: 'yesterday' },
      code: 2,
      stream: 'stderr',
      want: /SOURCE_DATE_EPOCH must be whole seconds since 1970, got "yesterday"/,
    },
    {
      name: 'missing system file',
      args: ['validate', '/nonexistent/system.yml'],
      code: 2,
      stream: 'stderr',
      want: /\/nonexistent\/system\.yml/,
    },
  ] as const;
  for (const c of cases) {
    test(c.name, async () => {
      const r = await run([...c.args], 'env' in c ? c.env : {});
      assert.equal(r.code, c.code, r.stderr);
      assert.match(r[c.stream], c.want);
    });
  }
});

describe('validate', () => {
  test('a valid file exits 0 and says what it holds', async () => {
    const r = await run([
      'validate',
      await systemFile(
        'valid',
        'volumes:\n  - name: v\nservices:\n  - name: s\n    image: alpine\n    binds: [v:/v]\n',
      ),
    ]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /valid \(1 volumes, 1 containers\)/);
  });

  test('every problem is listed as file:line:col with the code and a hint, exit 2', async () => {
    const file = await systemFile(
      'invalid',
      'volumes:\n  - name: Bad\n  - name: ok\n    readonly: true\nservices:\n  - name: s\n    image: alpine\n    binds: [ok:/v, nope:/w]\n',
    );
    const r = await run(['validate', file]);
    assert.equal(r.code, 2);
    const lines = r.stderr.trimEnd().split('\n');
    assert.match(lines[0]!, new RegExp(`^lkvol: ${file}:2:\\d+: volumes\\[0\\]\\.name: `));
    assert.ok(
      lines.some((l) => /:8:\d+: services\[0\]\.binds\[0\]: .*read-only/.test(l)),
      r.stderr,
    );
    assert.ok(
      lines.some((l) => /:8:\d+: services\[0\]\.binds\[1\]: .*"nope"/.test(l)),
      r.stderr,
    );
    assert.match(lines[lines.length - 2]!, /\(LKVOL_CONFIG_INVALID\)$/);
    assert.match(lines[lines.length - 1]!, /^hint: /);
  });

  test('--json gives the error as one object with the issues', async () => {
    const file = await systemFile('invalid-json', 'volumes:\n  - name: a\n  - name: a\n');
    const r = await run(['validate', '--json', file]);
    assert.equal(r.code, 2);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      error: { code: string; exitCode: number; issues: { line: number; message: string }[] };
    };
    assert.equal(out.ok, false);
    assert.equal(out.error.code, 'LKVOL_CONFIG_INVALID');
    assert.equal(out.error.exitCode, 2);
    assert.equal(out.error.issues[0]!.line, 3);
  });

  test('what LinuxKit reads differently is a warning on stderr, the file still valid (exit 0); --json lists them', async () => {
    const text = [
      'onboot:',
      '  - name: fmt',
      '    image: alpine',
      '  - name: fmt',
      '    image: alpine',
      'services:',
      '  - name: s',
      '    image: alpine',
      '    uid: fmt',
      '    mounts:',
      '      - type: overlay',
      '        destination: host-etc',
      '    resources:',
      '      memory:',
      '        kernelTCP: 1024',
      '',
    ].join('\n');
    const file = await systemFile('warnings', text);
    const r = await run(['validate', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid/);
    const warnings = r.stderr.trimEnd().split('\n');
    assert.deepEqual(
      warnings.map((l) => /^warning: (.+?):(\d+):(\d+): (\S+): .* \((LKVOL_WARN_\w+)\)$/.exec(l)?.slice(1)),
      [
        [file, '9', '10', 'services[0].uid', 'LKVOL_WARN_AMBIGUOUS_ID'],
        [file, '12', '22', 'services[0].mounts[0].destination', 'LKVOL_WARN_RELATIVE_DESTINATION'],
        [file, '15', '20', 'services[0].resources.memory.kernelTCP', 'LKVOL_WARN_LINUXKIT_IGNORES'],
      ],
      r.stderr,
    );
    const json = await run(['validate', '--json', file]);
    assert.equal(json.code, 0);
    const out = JSON.parse(json.stdout) as { ok: boolean; warnings: { code: string; file: string; line: number }[] };
    assert.equal(out.ok, true);
    assert.deepEqual(
      out.warnings.map((w) => [w.code, w.line]),
      [
        ['LKVOL_WARN_AMBIGUOUS_ID', 9],
        ['LKVOL_WARN_RELATIVE_DESTINATION', 12],
        ['LKVOL_WARN_LINUXKIT_IGNORES', 15],
      ],
    );
    assert.equal(json.stderr, '', '--json keeps stderr for errors');
  });

  test('--policy: every violation at once, exit 2 (LKVOL_POLICY_VIOLATION); --json lists them; a ".." source warns without a policy', async () => {
    const file = await systemFile(
      'policy',
      'services:\n  - name: a\n    image: alpine\n    binds: [/:/host, /var/lib/app/data:/d]\n  - name: b\n    image: alpine\n    binds.add: [/var/lib/app/../../../etc:/etc]\n',
    );
    const policy = join(suite.work, 'policy', 'policy.yml');
    await writeFile(policy, 'hostPaths:\n  allow:\n    - path: /var/lib/app\n');
    const r = await run(['validate', '--policy', policy, file]);
    assert.equal(r.code, 2);
    const lines = r.stderr.trimEnd().split('\n');
    assert.match(
      lines[0]!,
      /system\.yml:4:13: services\[0\]\.binds\[0\]: container "a": "\/:\/host": host path \/ is not under any path the policy allows/,
    );
    assert.match(
      lines[1]!,
      /system\.yml:7:17: services\[1\]\.binds\.add\[0\]: container "b": .*contains "\.\.": write \/etc .*\(LKVOL_POLICY_VIOLATION\)$/,
    );
    const json = await run(['validate', '--json', '--policy', policy, file]);
    const out = JSON.parse(json.stdout) as { error: { code: string; issues: { line: number }[] } };
    assert.deepEqual([out.error.code, out.error.issues.map((i) => i.line)], ['LKVOL_POLICY_VIOLATION', [4, 7]]);
    const free = await run(['validate', file]);
    assert.equal(free.code, 0, 'without a policy, no restriction (as LinuxKit)');
    assert.match(
      free.stderr,
      /^warning: .*system\.yml:7:17: services\[1\]\.binds\.add\[0\]: host path "\/var\/lib\/app\/\.\.\/\.\.\/\.\.\/etc" contains "\.\.": it means \/etc; write that \(LKVOL_WARN_HOST_PATH_DOTDOT\)$/m,
    );
  });

  test('a provisioner that is not on PATH is a problem validate reports, without running anything', async () => {
    const file = await systemFile(
      'provisioner',
      'volumes:\n  - name: certs\n    provisioner:\n      name: no-such-provisioner\n',
    );
    const r = await run(['validate', file]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /volume "certs": provisioner lkvol-provisioner-no-such-provisioner is not on PATH \(LKVOL_CONFIG_INVALID\)/,
    );
  });

  test('a local image whose path leads nowhere is a problem validate reports at its line, reading nothing', async () => {
    const file = await systemFile(
      'local-image',
      'volumes:\n  - name: v\n    image: oci-layout:missing-layout:v1\nservices:\n  - name: s\n    image: docker-archive:./missing.tar\n',
    );
    const r = await run(['validate', file]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /system\.yml:3:12: volumes\[0\]\.image: oci-layout:missing-layout: \S+\/missing-layout does not exist/,
    );
    assert.match(
      r.stderr,
      /system\.yml:6:12: services\[0\]\.image: docker-archive:\.\/missing\.tar: \S+\/missing\.tar does not exist/,
    );
  });

  test('inspect reads a local layout relative to the current directory, and names a REF it lacks', async () => {
    await execFileAsync('umoci', ['init', '--layout', join(suite.work, 'inspect-layout')]);
    await execFileAsync('umoci', ['new', '--image', `${join(suite.work, 'inspect-layout')}:v1`]);
    const r = await run(['inspect', '--json', 'oci-layout:inspect-layout:v1']);
    assert.equal(r.code, 0, r.stderr);
    const image = (JSON.parse(r.stdout) as { image: { reference: string; digest: string } }).image;
    assert.equal(image.reference, 'oci-layout:inspect-layout:v1');
    const index = JSON.parse(await readFile(join(suite.work, 'inspect-layout', 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    assert.equal(image.digest, index.manifests[0]!.digest);
    const missing = await run(['inspect', 'oci-layout:inspect-layout:v2']);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /oci-layout:inspect-layout:v2: no image named "v2" in index\.json; it holds "v1" \(LKVOL_LOCAL_IMAGE\)\nhint: name one after the path: oci-layout:inspect-layout:v1/,
    );
  });

  test('a YAML syntax error is LKVOL_CONFIG_SYNTAX with its position', async () => {
    const file = await systemFile('syntax', 'volumes:\n  - name: [a\n');
    const r = await run(['validate', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^lkvol: ${file}:\\d+:\\d+: .*\\(LKVOL_CONFIG_SYNTAX\\)`, 'm'));
  });
});

describe('build', () => {
  test('builds, prints OUT, plain progress on stderr', async () => {
    const file = await systemFile('ok', 'volumes:\n  - name: v\n    image: REGISTRY/cli/data:1\n');
    const out = join(suite.work, 'ok', 'out');
    const r = await run(['build', '-o', out, '--cache', join(suite.work, 'cache'), '--platform', 'linux/amd64', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${out}\n`);
    assert.match(r.stderr, /^resolved .*cli\/data:1 → sha256:/m);
    assert.match(r.stderr, /^volume v: 1 files/m);
    assert.equal(await readFile(join(out, 'containers/volumes/v/lower/hello'), 'utf8'), 'world');
  });

  test('--rootfs unpacks the container image into its bundle, with progress naming the bundle', async () => {
    const file = await systemFile('rootfs', 'services:\n  - name: web\n    image: REGISTRY/cli/data:1\n');
    const out = join(suite.work, 'rootfs', 'out');
    const r = await run([
      'build',
      '--rootfs',
      '--progress',
      'plain',
      '-o',
      out,
      '--cache',
      join(suite.work, 'cache'),
      '--platform',
      'linux/amd64',
      file,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^containers\/services\/web: unpacking .*cli\/data:1$/m);
    assert.match(r.stderr, /^containers\/services\/web: layer 1\/1 sha256:/m);
    assert.equal(await readFile(join(out, 'containers/services/web/lower/hello'), 'utf8'), 'world');
    assert.deepEqual((await readdir(join(out, 'containers/services/web'))).sort(), [
      'config.json',
      'lower',
      'rootfs',
      'runtime.json',
      'tmp',
    ]);
  });

  test('-q hides progress, never a warning', async () => {
    const file = await systemFile('quiet-warn', 'volumes:\n  - name: v\n    image: REGISTRY/cli/data:1\n');
    const r = await run([
      'build',
      '-q',
      '--platform',
      'arm64',
      '-o',
      join(suite.work, 'quiet-warn', 'out'),
      '--cache',
      join(suite.work, 'cache'),
      file,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: .*linux\/amd64.*linux\/arm64|^warning: .*arm64.*amd64/m);
    assert.doesNotMatch(r.stderr, /^(resolved|volume|built) /m);
  });

  test('--json prints the record; -q prints no progress', async () => {
    const file = await systemFile('json', 'volumes:\n  - name: v\n    image: REGISTRY/cli/data:1\n');
    const out = join(suite.work, 'json', 'out');
    const r = await run(['build', '--json', '-q', '-o', out, '--cache', join(suite.work, 'cache'), file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const result = JSON.parse(r.stdout) as { ok: boolean; record: { volumes: { name: string; files: number }[] } };
    assert.equal(result.ok, true);
    assert.deepEqual(
      result.record.volumes.map((v) => [v.name, v.files]),
      [['v', 1]],
    );
  });

  test('an image that does not exist exits 1 naming it, the volume or container, and its line', async () => {
    const file = await systemFile(
      'missing',
      'volumes:\n  - name: v\n    image: REGISTRY/cli/nope:1\nservices:\n  - name: s\n    image: REGISTRY/cli/data:1\n',
    );
    const args = ['build', '-o', join(suite.work, 'missing', 'out'), '--cache', join(suite.work, 'cache'), file];
    const r = await run(args);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^lkvol: volume "v" \(.*system\.yml:3:12\): .*cli\/nope.*\(LKVOL_REGISTRY_NOT_FOUND\)\nhint: /m,
    );
    await writeFile(file, `services:\n  - name: s\n    image: ${suite.registry.host}/cli/gone:1\n`);
    const c = await run(args);
    assert.match(
      c.stderr,
      /^lkvol: services "s" \(.*system\.yml:3:12\): .*cli\/gone.*\(LKVOL_REGISTRY_NOT_FOUND\)\nhint: check the tag; "lkvol inspect .*cli\/gone:1" shows what a reference names$/m,
    );
    // A tag the repository lacks: the tags it has are named.
    await writeFile(file, `services:\n  - name: s\n    image: ${suite.registry.host}/cli/data:2\n`);
    const tag = await run(args);
    assert.match(
      tag.stderr,
      /cli\/data:2: .*; tags there include "1" \(LKVOL_REGISTRY_NOT_FOUND\)\nhint: use one of the repository's tags/,
    );
    await assert.rejects(stat(join(suite.work, 'missing', 'out')));
  });

  test('credentials come from $DOCKER_CONFIG/config.json and never reach the output', async () => {
    const secured = await startRegistry({ htpasswd: { user: 'ci', password: 's3cret-pw' } });
    try {
      await pushTarImage({
        registry: secured.host,
        repository: 'private/data',
        tag: '1',
        layers: [[{ name: 'p', content: 'private' }]],
        auth: { user: 'ci', password: 's3cret-pw' },
      });
      const file = await systemFile('auth', `volumes:\n  - name: v\n    image: ${secured.host}/private/data:1\n`);
      const out = join(suite.work, 'auth', 'out');
      const args = ['build', '--progress', 'plain', '-o', out, '--cache', join(suite.work, 'auth-cache'), file];
      const denied = await run(args);
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /\(LKVOL_REGISTRY_AUTH\)\nhint: .*docker login/);
      const dockerConfig = join(suite.work, 'auth', 'docker');
      await mkdir(dockerConfig, { recursive: true });
      await writeFile(
        join(dockerConfig, 'config.json'),
        JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from('ci:s3cret-pw').toString('base64') } } }),
      );
      const ok = await run(args, { DOCKER_CONFIG: dockerConfig });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(await readFile(join(out, 'containers/volumes/v/lower/p'), 'utf8'), 'private');
      const record = await readFile(join(out, 'lkvol.json'), 'utf8');
      for (const text of [ok.stdout, ok.stderr, denied.stderr, record]) {
        assert.ok(
          !text.includes('s3cret-pw') && !text.includes(Buffer.from('ci:s3cret-pw').toString('base64')),
          'a credential leaked',
        );
      }
    } finally {
      await secured.stop();
    }
  });

  test('the real executable runs a build and sets the exit code', async () => {
    const file = await systemFile('bin', 'volumes:\n  - name: v\n    image: REGISTRY/cli/data:1\n');
    const out = join(suite.work, 'bin', 'out');
    const bin = join(repoRoot(), 'dist', 'cmd', 'lkvol.js');
    const { stdout } = await execFileAsync(
      process.execPath,
      [bin, 'build', '-q', '-o', out, '--cache', join(suite.work, 'cache'), file],
      { env: { ...process.env, HOME: suite.work } },
    );
    assert.equal(stdout, `${out}\n`);
    await assert.rejects(
      execFileAsync(process.execPath, [bin, 'validate', join(suite.work, 'nope.yml')]),
      (e: { code?: number }) => e.code === 2,
    );
  });

  test('the installed command (cmd/lkvol.sh: the bundle, with its heap flag; also through a symlink, as npm links it) builds gzip and zstd layers, and --rootfs bundles', async () => {
    const link = join(suite.work, 'lkvol');
    await symlink(join(repoRoot(), 'cmd', 'lkvol.sh'), link);
    const env = { ...process.env, HOME: suite.work, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` };
    const { stdout } = await execFileAsync(link, ['--version'], { env });
    assert.match(stdout, /^lkvol \d+\.\d+\.\d+\n$/);
    await assert.rejects(
      execFileAsync(link, ['validate', join(suite.work, 'nope.yml')], { env }),
      (e: { code?: number }) => e.code === 2,
    );
    // The zstd decoder runs in a worker, a second entry of the bundle beside it.
    const tar = await buildTar([{ name: 'z', content: 'from zstd' }]);
    await pushImage({
      registry: suite.registry.host,
      repository: 'cli/zstd',
      tag: '1',
      format: 'oci',
      layers: [
        {
          data: execFileSync('zstd', ['-q', '-c'], { input: tar }),
          diffId: sha256(tar),
          mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd',
        },
      ],
    });
    // The native xattr binding is the bundle's one external package, loaded by a dynamic import.
    const xtar = await buildTar([{ name: 'x', content: 'x', pax: { 'SCHILY.xattr.user.lkvol': 'bundled' } }]);
    await pushImage({
      registry: suite.registry.host,
      repository: 'cli/xattr',
      tag: '1',
      format: 'oci',
      layers: [{ data: xtar, diffId: sha256(xtar), mediaType: 'application/vnd.oci.image.layer.v1.tar' }],
    });
    const file = await systemFile(
      'bundle',
      'volumes:\n  - name: g\n    image: REGISTRY/cli/data:1\n  - name: z\n    image: REGISTRY/cli/zstd:1\n  - name: x\n    image: REGISTRY/cli/xattr:1\nservices:\n  - name: s\n    image: REGISTRY/cli/data:1\n',
    );
    const out = join(suite.work, 'bundle', 'out');
    const cache = join(suite.work, 'bundle', 'cache');
    await execFileAsync(link, ['build', '-q', '--rootfs', '-o', out, '--cache', cache, file], { env });
    assert.match(
      execFileSync('getfattr', ['-n', 'user.lkvol', '--only-values', join(out, 'containers/volumes/x/lower/x')], {
        encoding: 'utf8',
      }),
      /^bundled$/,
    );
    // Reuse needs the binding too (it copies applied xattrs): a rebuild with nothing changed reuses every tree.
    const again = await execFileAsync(
      link,
      ['build', '--progress', 'plain', '--rootfs', '-o', out, '--cache', cache, file],
      { env },
    );
    assert.equal((again.stderr.match(/unchanged, reused/g) ?? []).length, 4, again.stderr);
    assert.equal(await readFile(join(out, 'containers/volumes/g/lower/hello'), 'utf8'), 'world');
    assert.equal(
      await readFile(join(out, 'containers/services/s/lower/etc/resolv.conf'), 'utf8'),
      '\n# no resolv.conf configured\n',
      'the skeleton layer, written by the bundled tar-stream',
    );
    assert.equal(await readFile(join(out, 'containers/volumes/z/lower/z'), 'utf8'), 'from zstd');
    assert.match(
      await readFile(join(repoRoot(), 'cmd', 'lkvol.sh'), 'utf8'),
      /exec node --max-semi-space-size=4 "\$here\/\.\.\/dist\/bundle\/start\.cjs"/,
    );
  });

  test("the bundle loads undici's dispatchers alone (not its fetch, WebSocket or mocks, nor Node's own fetch), and child_process, worker_threads and http2 only when used", async () => {
    const preload = join(suite.work, 'modules.cjs');
    await writeFile(
      preload,
      "process.on('exit', () => process.stderr.write(JSON.stringify(process.moduleLoadList)));\n",
    );
    const bundle = join(repoRoot(), 'dist', 'bundle', 'start.cjs');
    const r = await execFileAsync(process.execPath, ['-r', preload, bundle, '--version']);
    const loaded = JSON.parse(r.stderr) as string[];
    assert.ok(loaded.includes('NativeModule net'), 'the list is the one of this run');
    assert.deepEqual(
      loaded.filter((m) => m.includes('deps/undici')),
      [],
    );
    // Provisioners, device nodes and zstd without a native decoder need the first two, HTTP/2 (never offered)
    // the last (cmd/http2-lazy.cjs); every start would compile them.
    assert.deepEqual(
      ['child_process', 'worker_threads', 'http2'].filter((m) => loaded.includes(`NativeModule ${m}`)),
      [],
    );
    const source = await readFile(join(repoRoot(), 'dist', 'bundle', 'lkvol.cjs'), 'utf8');
    assert.deepEqual(
      ['lib/dispatcher/agent.js', 'lib/web/fetch/index.js', 'lib/mock/mock-agent.js'].map((f) =>
        source.includes(`// node_modules/undici/${f}`),
      ),
      [true, false, false],
    );
  });

  test('the installed command runs its bundle with the code cache make build wrote; a cache V8 refuses, or none, only costs the compilation', async () => {
    const env = { ...process.env, HOME: suite.work, LKVOL_CODE_CACHE: 'report' };
    const sh = join(repoRoot(), 'cmd', 'lkvol.sh');
    const used = await execFileAsync(sh, ['--version'], { env });
    // V8's tag says which caches it accepts: the one of a node run without flags, so Node's own modules' cache too
    // (start.cjs sets the flag of cmd/lkvol.sh back to its default once the heap is set up).
    const plain = await execFileAsync(process.execPath, ['-p', "require('node:v8').cachedDataVersionTag()"]);
    const tag = ` (V8 tag ${plain.stdout.trim()})`;
    const atExit = `lkvol V8 at exit: tag ${plain.stdout.trim()}, compilers' peak `;
    const report = (stderr: string) => stderr.replace(/(?<=compilers' peak )[\d.]+ MB\n$/, '');
    assert.equal(report(used.stderr), `lkvol code cache: used${tag}\n${atExit}`);
    // A copy of the bundle directory with a damaged cache, then without one.
    const copy = join(suite.work, 'bundle-copy');
    await mkdir(join(copy, 'cmd'), { recursive: true });
    await execFileAsync('cp', ['-r', join(repoRoot(), 'dist'), join(copy, 'dist')]);
    await execFileAsync('cp', [sh, join(copy, 'cmd', 'lkvol.sh')]);
    await writeFile(join(copy, 'package.json'), '{}');
    const cache = join(copy, 'dist', 'bundle', 'lkvol.cjs.cache');
    const bytes = await readFile(cache);
    await writeFile(cache, bytes.subarray(0, bytes.length >> 1));
    const rejected = await execFileAsync(join(copy, 'cmd', 'lkvol.sh'), ['--version'], { env });
    assert.deepEqual(
      [rejected.stdout, report(rejected.stderr)],
      [used.stdout, `lkvol code cache: rejected${tag}\n${atExit}`],
    );
    await rm(cache);
    const missing = await execFileAsync(join(copy, 'cmd', 'lkvol.sh'), ['validate', join(suite.work, 'nope.yml')], {
      env,
    }).catch((e: { code?: number; stderr?: string }) => e);
    assert.equal((missing as { code?: number }).code, 2, 'runs, and keeps its exit codes');
    assert.match((missing as { stderr?: string }).stderr ?? '', /^lkvol code cache: missing \(V8 tag \d+\)\n/);
  });

  test("the installed command compiles undici's WebAssembly HTTP parser with Liftoff alone, and leaves V8's flags at their defaults", async () => {
    // TurboFan would compile the parser's hot functions again, on a background thread the run then waits for; its
    // compile takes ~35 MB more at its peak, the rest of a build ~5.
    const file = await systemFile('liftoff', 'volumes:\n  - name: v\n    image: REGISTRY/cli/data:1\n');
    const env = { ...process.env, HOME: suite.work, LKVOL_CODE_CACHE: 'report' };
    const out = join(suite.work, 'liftoff', 'out');
    const args = ['build', '-q', '-o', out, '--cache', join(suite.work, 'liftoff', 'cache'), file];
    const sh = join(repoRoot(), 'cmd', 'lkvol.sh');
    const plain = await execFileAsync(process.execPath, ['-p', "require('node:v8').cachedDataVersionTag()"]);
    for (const run of ['first', 'no change']) {
      const r = await execFileAsync(sh, args, { env });
      assert.equal(r.stdout, `${out}\n`, run);
      const exit = /^lkvol V8 at exit: tag (\d+), compilers' peak ([\d.]+) MB$/m.exec(r.stderr);
      assert.ok(exit !== null, r.stderr);
      assert.equal(exit[1], plain.stdout.trim(), run);
      // start.cjs sets the flags on V8 11.3 (Node 20) alone.
      if (process.versions.v8.startsWith('11.3.')) assert.ok(Number(exit[2]) < 16, `${run}: ${exit[0]}`);
    }
    assert.equal(await readFile(join(out, 'containers/volumes/v/lower/hello'), 'utf8'), 'world');
  });
});

describe('lock', () => {
  test('lock --json reports a warning as an NDJSON line on stderr; without --json as text ending with its code', async () => {
    const file = await systemFile('lock-warning', 'volumes:\n  - name: v\n    image: REGISTRY/cli/data:1\n');
    const cache = join(suite.work, 'cache');
    // A single amd64 manifest, locked for arm64: used, with a warning.
    const json = await run(['lock', '--json', '--cache', cache, '--platform', 'linux/arm64', file]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as { ok: boolean }).ok, true);
    assert.deepEqual(
      jsonLines(json.stderr).map((e) => [e['event'], e['code']]),
      [['warning', 'LKVOL_WARN_PLATFORM']],
    );
    const text = await run(['lock', '--update', '--cache', cache, '--platform', 'linux/arm64', file]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stderr, /^warning: .*linux\/amd64.* \(LKVOL_WARN_PLATFORM\)$/m);
  });

  test('lock writes lkvol.lock beside the file; build --locked uses it and exits 2 naming a reference it lacks', async () => {
    const file = await systemFile('lock', 'volumes:\n  - name: v\n    image: REGISTRY/cli/data:1\n');
    const cache = join(suite.work, 'cache');
    const r = await run(['lock', '--cache', cache, '--platform', 'linux/amd64', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${join(suite.work, 'lock', 'lkvol.lock')}\n`);
    assert.match(r.stderr, /^resolved .*cli\/data:1 → sha256:/m);
    const again = await run(['lock', '--json', '--cache', cache, file]);
    assert.deepEqual(JSON.parse(again.stdout), {
      ok: true,
      lock: join(suite.work, 'lock', 'lkvol.lock'),
      resolved: [],
      dropped: [],
      changed: false,
    });
    const out = join(suite.work, 'lock', 'out');
    const b = await run([
      'build',
      '--locked',
      '--progress',
      'plain',
      '-o',
      out,
      '--cache',
      cache,
      '--platform',
      'linux/amd64',
      file,
    ]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /^pinned .*cli\/data:1 → sha256:\S+ by .*lkvol\.lock$/m);
    const host = suite.registry.host;
    await writeFile(
      file,
      `volumes:\n  - name: v\n    image: ${host}/cli/data:1\n  - name: w\n    image: ${host}/cli/other:1\n`,
    );
    const stale = await run(['build', '--locked', '-o', out, '--cache', cache, file]);
    assert.equal(stale.code, 2);
    assert.match(stale.stderr, /system\.yml:5:12: volumes\[1\]\.image: .*cli\/other:1 is not in .*lkvol\.lock/);
    assert.match(stale.stderr, /\(LKVOL_LOCK\)$/m);
    assert.match(stale.stderr, /^hint: run `lkvol lock /m);
  });

  test('a reference is taken only with --update', async () => {
    const file = await systemFile('lock-usage', 'volumes:\n  - name: v\n    image: REGISTRY/cli/data:1\n');
    const r = await run(['lock', '--cache', join(suite.work, 'cache'), 'alpine:3.21', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /"alpine:3\.21": no such file \(LKVOL_USAGE\)/);
  });
});

describe('interruption', () => {
  test('SIGINT during a download exits 130, removes the staging directory and keeps the previous output', async () => {
    const slow = await pushTarImage({
      registry: suite.registry.host,
      repository: 'cli/slow',
      tag: '1',
      layers: [[{ name: 'never', content: 'arrives' }]],
    });
    const layer = slow.layerDigests[0]!;
    let stalled!: () => void;
    const layerRequested = new Promise<void>((resolve) => (stalled = resolve));
    const proxy = await startFaultProxy(suite.registry.url, (req) => {
      if (!(req.url ?? '').includes(layer)) return { kind: 'pass' };
      stalled();
      return { kind: 'stall' };
    });
    try {
      const dir = join(suite.work, 'sigint');
      const out = join(dir, 'out');
      const bin = join(repoRoot(), 'dist', 'cmd', 'lkvol.js');
      const cache = join(dir, 'cache');
      await execFileAsync(process.execPath, [
        bin,
        'build',
        '-q',
        '-o',
        out,
        '--cache',
        cache,
        await systemFile('sigint', 'volumes:\n  - name: v\n    image: REGISTRY/cli/data:1\n'),
      ]);
      const previous = describeTree(await walkTree(out));
      await writeFile(join(dir, 'system.yml'), `volumes:\n  - name: v\n    image: ${proxy.host}/cli/slow:1\n`);
      const child = spawn(
        process.execPath,
        [bin, 'build', '--progress', 'plain', '-o', out, '--cache', cache, join(dir, 'system.yml')],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      // The proxy holds the layer request: once it has arrived, the build is mid-download.
      await layerRequested;
      child.kill('SIGINT');
      assert.equal(await exited, 130, stderr);
      assert.match(stderr, /\(LKVOL_CANCELLED\)\nhint: the previous output was left as it was\n/);
      assert.deepEqual(describeTree(await walkTree(out)), previous);
      assert.deepEqual(
        (await readdir(dir)).filter((n) => n.startsWith('.out.')),
        [],
      );
    } finally {
      await proxy.close();
    }
  });

  test('a reader that goes away (| head) does not stop the build: exit 0, OUT complete, no staging left', async () => {
    const dir = join(suite.work, 'epipe');
    const out = join(dir, 'out');
    const bin = join(repoRoot(), 'dist', 'cmd', 'lkvol.js');
    const file = await systemFile('epipe', 'volumes:\n  - name: v\n    image: REGISTRY/cli/data:1\n');
    const child = spawn(process.execPath, [bin, 'build', '--json', '-o', out, '--cache', join(dir, 'cache'), file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Both read ends closed after the first line, as `2>&1 | head -1` does: every later write meets EPIPE.
    child.stderr.once('data', () => {
      child.stderr.destroy();
      child.stdout.destroy();
    });
    assert.equal(await exited, 0);
    assert.ok((await readFile(join(out, 'lkvol.json'), 'utf8')).includes('cli/data:1'));
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('.out.')),
      [],
    );
  });
});
