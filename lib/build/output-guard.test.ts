// The output guard case by case: what OUT a build may replace, what it refuses and why, and that refusing touches
// nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLkvolError, type ErrorCode } from '../errors.js';
import { writeEarlierOutput, writeEarlierTar } from '../internal/testing/earlier-output.js';
import { repoRoot } from '../internal/testing/testdata.js';
import { tempDir } from '../internal/testing/temp.js';
import { walkTree } from '../internal/testing/tree.js';
import { checkOutput, type OutputGuardOptions } from './output-guard.js';

/**
 * A sandbox `s` with a working directory `proj` (the system file, notes, a file, a foreign directory),
 * an empty home, and an empty fake installation; every other path is made by the case that needs it.
 */
async function sandbox(t: Parameters<typeof tempDir>[0]): Promise<{ s: string; options: OutputGuardOptions }> {
  const s = await realpath(await tempDir(t, 'guard'));
  for (const dir of ['proj/foreign', 'home', 'install']) await mkdir(join(s, dir), { recursive: true });
  await writeFile(join(s, 'proj', 'system.yml'), 'volumes: []\n');
  await writeFile(join(s, 'proj', 'notes.txt'), 'mine\n');
  await writeFile(join(s, 'proj', 'afile'), 'a file\n');
  await writeFile(join(s, 'proj', 'foreign', 'data.txt'), 'data\n');
  const options: OutputGuardOptions = {
    out: 'out',
    cwd: join(s, 'proj'),
    home: join(s, 'home'),
    cacheDir: join(s, 'cache'),
    files: ['system.yml'],
    caCertFiles: [],
    certsDirs: [],
    dockerConfigPath: undefined,
    authFiles: [],
    installDir: join(s, 'install'),
  };
  return { s, options };
}

type Setup = (s: string) => Promise<Partial<OutputGuardOptions>>;

/** OUT is an earlier output whose lkvol.json is replaced by `text`. */
function withRecordText(text: string): Setup {
  return async (s) => {
    await writeEarlierOutput(join(s, 'record'));
    await writeFile(join(s, 'record', 'lkvol.json'), text);
    return { out: join(s, 'record') };
  };
}

// Each protected path is made an earlier lkvol output (or left empty) where it can be, so that only
// the rule under test can refuse it.
const refused: { name: string; setup: Setup; code?: ErrorCode; want: RegExp }[] = [
  {
    name: '-o / is the root directory',
    setup: async () => ({ out: '/' }),
    want: /^output "\/" is the root directory; refusing/,
  },
  {
    name: '-o . is the current directory, even when it holds an earlier output',
    setup: async (s) => (
      await writeEarlierOutput(join(s, 'earlier-cwd')),
      { out: '.', cwd: join(s, 'earlier-cwd'), files: [join(s, 'proj', 'system.yml')] }
    ),
    want: /^output "\." \(.*\/earlier-cwd\) is the current directory;/,
  },
  {
    name: '-o .. contains the current directory',
    setup: async (s) => (
      await writeEarlierOutput(join(s, 'up')),
      { out: '..', cwd: join(s, 'up', 'containers'), files: [join(s, 'proj', 'system.yml')] }
    ),
    want: /^output "\.\." \(.*\/up\) contains the current directory;/,
  },
  {
    name: '-o $HOME is the home directory, even when it is empty',
    setup: async (s) => ({ out: join(s, 'home') }),
    want: /is the home directory .*\/home;/,
  },
  {
    name: 'a directory containing $HOME',
    setup: async (s) => (
      await writeEarlierOutput(join(s, 'h')),
      { out: join(s, 'h'), home: join(s, 'h', 'containers', 'me') }
    ),
    want: /contains the home directory .*\/h\/containers\/me;/,
  },
  {
    name: '-o system.yml is the system file',
    setup: async () => ({ out: 'system.yml' }),
    want: /^output "system\.yml" \(.*\/proj\/system\.yml\) is the system file system\.yml;/,
  },
  {
    name: 'the parent of the system file contains it',
    setup: async (s) => {
      await writeEarlierOutput(join(s, 'e'));
      await writeFile(join(s, 'e', 'containers', 'system.yml'), 'volumes: []\n');
      return { out: join(s, 'e'), files: [join(s, 'e', 'containers', 'system.yml')] };
    },
    want: /contains the system file .*\/e\/containers\/system\.yml;/,
  },
  {
    name: 'a missing OUT around the cache-to-be (--cache C/cache -o C)',
    setup: async () => ({ out: 'C', cacheDir: 'C/cache' }),
    want: /^output "C" \(.*\/proj\/C\) contains the cache C\/cache;/,
  },
  {
    name: 'an earlier output holding the cache',
    setup: async (s) => (
      await writeEarlierOutput(join(s, 'c')),
      { out: join(s, 'c'), cacheDir: join(s, 'c', 'containers', 'cache') }
    ),
    want: /contains the cache /,
  },
  {
    name: "lkvol's own installation",
    setup: async (s) => ({ out: join(s, 'install') }),
    want: /is lkvol's own installation;/,
  },
  {
    name: 'a directory containing the installation',
    setup: async (s) => (
      await writeEarlierOutput(join(s, 'i')),
      { out: join(s, 'i'), installDir: join(s, 'i', 'containers', 'lkvol') }
    ),
    want: /contains lkvol's own installation;/,
  },
  // NB: without installDir the guard finds the package this code runs from.
  {
    name: 'the running lkvol itself, found from its own code',
    setup: async () => ({ out: repoRoot(), installDir: undefined }),
    want: /is lkvol's own installation;/,
  },
  {
    name: 'inputs other than system files: CA file, certs directory, credentials file',
    setup: async (s) => {
      await writeEarlierOutput(join(s, 'in'));
      const at = (name: string) => join(s, 'in', 'containers', name);
      return {
        out: join(s, 'in'),
        caCertFiles: [at('ca.pem')],
        certsDirs: [at('certs.d')],
        dockerConfigPath: at('config.json'),
      };
    },
    want: /contains the CA certificate file .*\/in\/containers\/ca\.pem;/,
  },
  {
    name: 'a symlink to a protected directory is followed and refused',
    setup: async (s) => (await symlink(join(s, 'home'), join(s, 'proj', 'link')), { out: 'link' }),
    want: /^output "link" \(.*\/home\) is the home directory/,
  },
  {
    name: 'a directory holding a symlink given as the system file',
    setup: async (s) => {
      await writeEarlierOutput(join(s, 'l'));
      await symlink(join(s, 'proj', 'system.yml'), join(s, 'l', 'containers', 'sys.yml'));
      return { out: join(s, 'l'), files: [join(s, 'l', 'containers', 'sys.yml')] };
    },
    want: /contains the system file /,
  },
  {
    name: 'a directory holding the target of a symlinked system file',
    setup: async (s) => {
      await writeEarlierOutput(join(s, 't'));
      await writeFile(join(s, 't', 'containers', 'system.yml'), 'volumes: []\n');
      await symlink(join(s, 't', 'containers', 'system.yml'), join(s, 'proj', 'link.yml'));
      return { out: join(s, 't'), files: ['link.yml'] };
    },
    want: /contains the system file link\.yml;/,
  },
  {
    name: 'the current directory reached through a symlink',
    setup: async (s) => {
      await writeEarlierOutput(join(s, 'real-cwd'));
      await symlink(join(s, 'real-cwd'), join(s, 'cwd-link'));
      return { out: join(s, 'real-cwd'), cwd: join(s, 'cwd-link'), files: [join(s, 'proj', 'system.yml')] };
    },
    want: /is the current directory;/,
  },
  {
    name: '-o afile: a regular file is not a directory',
    setup: async () => ({ out: 'afile' }),
    want: /^output "afile" \(.*\) is a regular file, not a directory;/,
  },
  {
    name: 'a path below a file',
    setup: async () => ({ out: 'afile/x' }),
    want: /lies below something that is not a directory;/,
  },
  {
    name: 'a broken symlink',
    setup: async (s) => (await symlink(join(s, 'nowhere'), join(s, 'proj', 'dangling')), { out: 'dangling' }),
    want: /is a broken symbolic link, not a directory;/,
  },
  {
    name: 'a FIFO',
    setup: async (s) => (spawnSync('mkfifo', [join(s, 'proj', 'fifo')]), { out: 'fifo' }),
    want: /is a FIFO, not a directory;/,
  },
  {
    name: 'a non-empty directory without lkvol.json',
    setup: async () => ({ out: 'foreign' }),
    want: /is a directory lkvol did not write \(it holds "data\.txt" and no lkvol\.json\);/,
  },
  ...[
    { name: 'without the build record fields', text: '{"name":"my project"}\n' },
    {
      name: 'whose marker has the wrong type',
      text: JSON.stringify({ containers: [], images: {}, lkvolVersion: 1, platform: 'linux/amd64', volumes: [] }),
    },
    { name: 'that is a JSON array', text: '[]\n' },
    { name: 'that is not JSON', text: 'lkvolVersion: 1\n' },
  ].map((r) => ({
    name: `an lkvol.json ${r.name}`,
    setup: withRecordText(r.text),
    want: /holds an lkvol\.json that lkvol did not write/,
  })),
  {
    // NB: a link is not followed: the record must be OUT's own.
    name: 'an lkvol.json that is a symlink to a real record',
    setup: async (s) => {
      await writeEarlierOutput(join(s, 'real'));
      await mkdir(join(s, 'linked'));
      await symlink(join(s, 'real', 'lkvol.json'), join(s, 'linked', 'lkvol.json'));
      return { out: join(s, 'linked') };
    },
    want: /holds an lkvol\.json that lkvol did not write/,
  },
  {
    name: 'an earlier output the user added files to',
    setup: async (s) => (
      await writeEarlierOutput(join(s, 'plus')),
      await writeFile(join(s, 'plus', 'notes.txt'), 'mine\n'),
      { out: join(s, 'plus') }
    ),
    want: /is an earlier lkvol output that also holds "notes\.txt", which lkvol did not write;/,
  },
  {
    name: "-o '' is a usage error",
    setup: async () => ({ out: '' }),
    code: 'LKVOL_USAGE',
    want: /^output path is empty$/,
  },
  {
    name: 'a tar OUT that is a file lkvol did not write',
    setup: async (s) => (
      await writeFile(join(s, 'proj', 'notes.tar'), 'mine\n'),
      { out: 'notes.tar', format: 'tar' as const }
    ),
    want: /is a file lkvol did not write \(not a tar holding an lkvol\.json build record\);/,
  },
  {
    name: 'a tar OUT that is a directory',
    setup: async () => ({ out: 'foreign', format: 'tar' as const }),
    want: /is a directory \(a tar output only replaces an earlier lkvol tar\);/,
  },
  {
    name: 'a tar OUT that is the system file',
    setup: async () => ({ out: 'system.yml', format: 'tar' as const }),
    want: /is the system file/,
  },
];

for (const c of refused) {
  test(`refused: ${c.name}`, async (t) => {
    const { s, options } = await sandbox(t);
    const o = { ...options, ...(await c.setup(s)) };
    const before = await walkTree(s, { includeRoot: true });
    await assert.rejects(checkOutput(o), (e: unknown) => {
      assert.ok(isLkvolError(e, c.code ?? 'LKVOL_OUTPUT_REFUSED'), String(e));
      assert.match(e.message, c.want);
      assert.ok(e.hint !== undefined && e.hint !== '');
      return true;
    });
    assert.deepEqual(await walkTree(s, { includeRoot: true }), before);
  });
}

const allowed: { name: string; setup: Setup; want: (s: string) => string }[] = [
  { name: 'a path that does not exist', setup: async () => ({ out: 'out' }), want: (s) => join(s, 'proj', 'out') },
  {
    name: 'a path whose parents do not exist either',
    setup: async () => ({ out: 'a/b/out' }),
    want: (s) => join(s, 'proj', 'a', 'b', 'out'),
  },
  {
    name: 'an empty directory',
    setup: async (s) => (await mkdir(join(s, 'proj', 'empty')), { out: 'empty' }),
    want: (s) => join(s, 'proj', 'empty'),
  },
  {
    name: 'an earlier lkvol output',
    setup: async (s) => (await writeEarlierOutput(join(s, 'prev')), { out: join(s, 'prev') }),
    want: (s) => join(s, 'prev'),
  },
  {
    name: 'an earlier output of a build without containers (lkvol.json alone)',
    setup: async (s) => (
      await writeEarlierOutput(join(s, 'bare')),
      await rm(join(s, 'bare', 'containers'), { recursive: true }),
      { out: join(s, 'bare') }
    ),
    want: (s) => join(s, 'bare'),
  },
  {
    name: 'a symlink to an earlier output resolves to its target',
    setup: async (s) => (
      await writeEarlierOutput(join(s, 'target')),
      await symlink(join(s, 'target'), join(s, 'proj', 'out-link')),
      { out: 'out-link' }
    ),
    want: (s) => join(s, 'target'),
  },
  {
    name: 'a directory beside the cache, not around it',
    setup: async () => ({ out: 'cache-out', cacheDir: 'cache' }),
    want: (s) => join(s, 'proj', 'cache-out'),
  },
  {
    name: 'a directory inside the installation (e.g. out/ in a checkout)',
    setup: async (s) => ({ out: join(s, 'install', 'out') }),
    want: (s) => join(s, 'install', 'out'),
  },
  {
    name: 'a directory inside the home directory',
    setup: async (s) => ({ out: join(s, 'home', 'out') }),
    want: (s) => join(s, 'home', 'out'),
  },
];

for (const c of allowed) {
  test(`allowed: ${c.name}`, async (t) => {
    const { s, options } = await sandbox(t);
    const o = { ...options, ...(await c.setup(s)) };
    const before = await walkTree(s, { includeRoot: true });
    assert.equal(await checkOutput(o), c.want(s));
    assert.deepEqual(await walkTree(s, { includeRoot: true }), before);
  });
}

// Mount points: rename(2) cannot replace one, so a build into one would fail after all its work. (Mounting needs root,
// as the whole suite does: see .ci/as-root.sh.)
const mounts: { name: string; mount: (s: string, at: string) => string[] }[] = [
  { name: 'a tmpfs', mount: (_s, at) => ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', at] },
  { name: 'a bind mount of a directory of the same file system', mount: (s, at) => ['--bind', join(s, 'proj'), at] },
];
for (const c of mounts) {
  test(`refused: an OUT that is a mount point (${c.name}), before anything is written`, async (t) => {
    const { s, options } = await sandbox(t);
    const at = join(s, 'mnt', 'out');
    await mkdir(at, { recursive: true });
    await withMount(c.mount(s, at), async () => {
      await assert.rejects(checkOutput({ ...options, out: at }), (e: unknown) => {
        assert.ok(isLkvolError(e, 'LKVOL_OUTPUT_REFUSED'), String(e));
        assert.match(e.message, /is a mount point/);
        assert.equal(e.hint, `build into a directory below it, e.g. -o ${join(at, 'out')}`);
        return true;
      });
      // Below it is fine.
      assert.equal(await checkOutput({ ...options, out: join(at, 'out') }), join(at, 'out'));
    });
  });
}

test('refused: a tar OUT that is a bind-mounted file, even an earlier lkvol tar', async (t) => {
  const { s, options } = await sandbox(t);
  const tar = join(s, 'proj', 'out.tar');
  await writeEarlierTar(tar);
  assert.equal(await checkOutput({ ...options, out: 'out.tar', format: 'tar' }), tar, 'an earlier tar is replaced');
  await writeFile(join(s, 'proj', 'host.tar'), '');
  await withMount(['--bind', join(s, 'proj', 'host.tar'), tar], async () => {
    await writeEarlierTar(tar);
    await assert.rejects(
      checkOutput({ ...options, out: 'out.tar', format: 'tar' }),
      (e: unknown) => isLkvolError(e, 'LKVOL_OUTPUT_REFUSED') && /is a mount point/.test(e.message),
    );
  });
});

/**
 * Runs `body` with mount(8) `args` in place, unmounting the target (the last argument) after it: before the test's own
 * clean-up removes the directory.
 */
async function withMount(args: string[], body: () => Promise<void>): Promise<void> {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  try {
    await body();
  } finally {
    // Lazily if need be: a test that failed may have left a file open there.
    if (spawnSync('umount', [args.at(-1)!]).status !== 0) spawnSync('umount', ['-l', args.at(-1)!]);
  }
}
