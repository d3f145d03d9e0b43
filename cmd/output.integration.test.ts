// The CLI's OUT rules end to end (what -o may replace, refused before any request or write), and relative paths taken
// from the injected cwd.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, readlink, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runInProcess, type CliRun } from '../lib/internal/testing/run-in-process.js';
import { writeEarlierOutput } from '../lib/internal/testing/earlier-output.js';
import { startFaultProxy, type FaultProxy } from '../lib/internal/testing/fault-proxy.js';
import { pushTarImage } from '../lib/internal/testing/images.js';
import type { TestCleanup } from '../lib/internal/testing/temp.js';
import { walkTree } from '../lib/internal/testing/tree.js';
import { useRegistry } from '../lib/internal/testing/use-registry.js';

const suite = useRegistry({ name: 'cli-out' });
/** Every request of these builds goes through it, so a test can tell that none was made. */
let proxy: FaultProxy;

suite.before(async () => {
  proxy = await startFaultProxy(suite.registry.url, () => ({ kind: 'pass' }));
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'out/data',
    tag: '1',
    layers: [[{ name: 'hello', content: 'world' }]],
  });
});

after(async () => {
  await proxy?.close();
});

/**
 * A sandbox `s` as a user's machine: `home/` (HOME, empty), and `proj/` (the working directory, never the
 * test process's own) holding the system file, notes, a file, a foreign directory, a directory with an
 * lkvol.json that lkvol did not write, and a symlink to the home directory.
 */
async function sandbox(t: TestCleanup): Promise<string> {
  const s = await realpath(await suite.tempDir(t, 'sandbox'));
  await mkdir(join(s, 'home'));
  await mkdir(join(s, 'proj', 'foreign'), { recursive: true });
  await mkdir(join(s, 'proj', 'fake'));
  await writeFile(join(s, 'proj', 'system.yml'), `volumes:\n  - name: v\n    image: ${proxy.host}/out/data:1\n`);
  await writeFile(join(s, 'proj', 'notes.txt'), 'my notes\n');
  await writeFile(join(s, 'proj', 'afile'), 'a file\n');
  await writeFile(join(s, 'proj', 'foreign', 'data.txt'), 'data\n');
  await writeFile(join(s, 'proj', 'fake', 'lkvol.json'), '{"name":"my project","version":1}\n');
  await symlink(join(s, 'home'), join(s, 'proj', 'home-link'));
  return s;
}

/** `lkvol build ARGS system.yml` from `s/<cwd>` (default proj), HOME `s/home`, cache `s/cache` unless ARGS name one. */
function build(s: string, args: string[], o: { cwd?: string; file?: string } = {}): Promise<CliRun> {
  const cache = args.includes('--cache') ? [] : ['--cache', '../cache'];
  return runInProcess(['build', '-q', ...cache, ...args, o.file ?? 'system.yml'], {
    env: { HOME: join(s, 'home') },
    cwd: join(s, o.cwd ?? 'proj'),
  });
}

describe('refused: exit 2 naming OUT and why, before any request or write', () => {
  const cases: {
    name: string;
    args: (s: string) => string[];
    cwd?: string;
    file?: string;
    want: (s: string) => RegExp;
  }[] = [
    {
      name: '-o . (the current directory)',
      args: () => ['-o', '.'],
      want: (s) => rx(`output "." (${s}/proj) is the current directory; refusing to replace it (LKVOL_OUTPUT_REFUSED)`),
    },
    { name: "-o '' (empty)", args: () => ['-o', ''], want: () => rx('output path is empty (LKVOL_USAGE)') },
    {
      name: '-o .. (contains the current directory)',
      args: () => ['-o', '..'],
      want: (s) => rx(`output ".." (${s}) contains the current directory;`),
    },
    {
      name: '-o ../proj from elsewhere (contains the input)',
      args: () => ['-o', '../proj'],
      cwd: 'home',
      file: '../proj/system.yml',
      want: (s) => rx(`output "../proj" (${s}/proj) contains the system file ../proj/system.yml;`),
    },
    {
      name: '-o afile (a regular file)',
      args: () => ['-o', 'afile'],
      want: (s) => rx(`output "afile" (${s}/proj/afile) is a regular file, not a directory;`),
    },
    {
      name: '-o system.yml (the input file)',
      args: () => ['-o', 'system.yml'],
      want: () => rx('is the system file system.yml;'),
    },
    {
      name: '--cache C/cache -o C (contains the cache)',
      args: () => ['--cache', 'C/cache', '-o', 'C'],
      want: (s) => rx(`output "C" (${s}/proj/C) contains the cache ${s}/proj/C/cache;`),
    },
    { name: '-o $HOME', args: (s) => ['-o', join(s, 'home')], want: (s) => rx(`is the home directory ${s}/home;`) },
    { name: '-o /', args: () => ['-o', '/'], want: () => rx('output "/" is the root directory;') },
    {
      name: 'an ancestor of the current directory',
      args: (s) => ['-o', s],
      want: (s) => rx(`output "${s}" contains the current directory;`),
    },
    {
      name: 'a non-empty directory lkvol did not write',
      args: () => ['-o', 'foreign'],
      want: () => rx('is a directory lkvol did not write (it holds "data.txt" and no lkvol.json);'),
    },
    {
      name: 'a directory whose lkvol.json lacks the build record fields',
      args: () => ['-o', 'fake'],
      want: () => rx('holds an lkvol.json that lkvol did not write'),
    },
    {
      name: 'a symlink to the home directory',
      args: () => ['-o', 'home-link'],
      want: (s) => rx(`output "home-link" (${s}/home) is the home directory`),
    },
    {
      name: '--format tar -o afile (a file lkvol did not write)',
      args: () => ['--format', 'tar', '-o', 'afile'],
      want: (s) => rx(`output "afile" (${s}/proj/afile) is a file lkvol did not write`, '(LKVOL_OUTPUT_REFUSED)'),
    },
    {
      name: '-o foreign.tar, a directory',
      args: () => ['--format', 'tar', '-o', 'foreign'],
      want: () => rx('is a directory (a tar output only replaces an earlier lkvol tar)'),
    },
    {
      name: '--format dir -o x.tar',
      args: () => ['--format', 'dir', '-o', 'x.tar'],
      want: () => rx('output "x.tar" is a tar output, but the format is dir (LKVOL_USAGE)'),
    },
  ];
  for (const c of cases) {
    test(c.name, async (t) => {
      const s = await sandbox(t);
      const before = await walkTree(s, { includeRoot: true });
      const requests = proxy.seen.length;
      const r = await build(s, c.args(s), {
        ...(c.cwd === undefined ? {} : { cwd: c.cwd }),
        ...(c.file === undefined ? {} : { file: c.file }),
      });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, c.want(s));
      assert.match(r.stderr, /\nhint: \S/);
      assert.equal(r.stdout, '');
      assert.deepEqual(await walkTree(s, { includeRoot: true }), before, 'the sandbox changed');
      assert.deepEqual(proxy.seen.slice(requests), [], 'a registry request was made');
    });
  }

  test('--json gives the refusal as one object with its code and exit code', async (t) => {
    const s = await sandbox(t);
    const r = await build(s, ['--json', '-o', '.']);
    assert.equal(r.code, 2);
    const { error } = JSON.parse(r.stdout) as {
      error: { code: string; exitCode: number; message: string; hint: string };
    };
    assert.deepEqual(
      [error.code, error.exitCode, error.message],
      ['LKVOL_OUTPUT_REFUSED', 2, `output "." (${s}/proj) is the current directory; refusing to replace it`],
    );
  });
});

/** `lkvol: <text…> (` with every part escaped, parts joined by anything. */
function rx(...parts: string[]): RegExp {
  return new RegExp(parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*'));
}

describe('allowed: a new path, an empty directory, an earlier output', () => {
  test('relative system file, OUT and cache are taken from the injected cwd, not the process’s', async (t) => {
    const s = await sandbox(t);
    assert.notEqual(process.cwd(), join(s, 'proj'));
    const requests = proxy.seen.length;
    const r = await build(s, ['-o', 'new/out']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${s}/proj/new/out\n`);
    assert.equal(
      await readFile(join(s, 'proj', 'new', 'out', 'containers', 'volumes', 'v', 'lower', 'hello'), 'utf8'),
      'world',
    );
    assert.ok((await lstat(join(s, 'cache', 'v1'))).isDirectory());
    await assert.rejects(lstat(join(process.cwd(), 'new')), { code: 'ENOENT' });
    assert.ok(proxy.seen.length > requests, 'the build went through the counting proxy');
  });

  test('an empty directory, then the earlier output it became, are replaced; what is beside them stays', async (t) => {
    const s = await sandbox(t);
    await mkdir(join(s, 'proj', 'empty'));
    const beside = await walkTree(join(s, 'proj', 'foreign'));
    for (const round of [1, 2]) {
      const r = await build(s, ['-o', 'empty']);
      assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
      assert.equal(
        await readFile(join(s, 'proj', 'empty', 'containers', 'volumes', 'v', 'lower', 'hello'), 'utf8'),
        'world',
      );
    }
    assert.equal(await readFile(join(s, 'proj', 'notes.txt'), 'utf8'), 'my notes\n');
    assert.deepEqual(await walkTree(join(s, 'proj', 'foreign')), beside);
  });

  test('a symlink to an earlier output: the target is replaced, the link stays', async (t) => {
    const s = await sandbox(t);
    await writeEarlierOutput(join(s, 'builds', 'v1'));
    await symlink(join(s, 'builds', 'v1'), join(s, 'proj', 'current'));
    const r = await build(s, ['-o', 'current']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${s}/builds/v1\n`);
    assert.equal(await readlink(join(s, 'proj', 'current')), join(s, 'builds', 'v1'));
    assert.equal(
      await readFile(join(s, 'builds', 'v1', 'containers', 'volumes', 'v', 'lower', 'hello'), 'utf8'),
      'world',
    );
    await assert.rejects(lstat(join(s, 'builds', 'v1', 'containers', 'marker')), { code: 'ENOENT' });
  });
});

describe('relative paths of validate and inspect are taken from the injected cwd', () => {
  test('validate system.yml', async (t) => {
    const s = await sandbox(t);
    const r = await runInProcess(['validate', 'system.yml'], { env: { HOME: join(s, 'home') }, cwd: join(s, 'proj') });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^system\.yml: valid/);
  });

  test('inspect --cache ../icache', async (t) => {
    const s = await sandbox(t);
    const r = await runInProcess(['inspect', '--cache', '../icache', `${proxy.host}/out/data:1`], {
      env: { HOME: join(s, 'home') },
      cwd: join(s, 'proj'),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await lstat(join(s, 'icache', 'v1'))).isDirectory());
  });
});
