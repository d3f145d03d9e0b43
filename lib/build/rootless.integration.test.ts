// A rootless build for real: the built CLI runs as nobody (65534) against a real registry; tree and lkvol.json are
// checked.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyCliForOtherUsers, type CliCopy } from '../internal/testing/cli-copy.js';
import { pushTarImage } from '../internal/testing/images.js';
import type { TarEntry } from '../internal/testing/tar.js';
import { describeTree, walkTree, wantDir as d, wantFile as f, wantSymlink as s } from '../internal/testing/tree.js';
import type { VolumeRecord } from './record.js';
import { build } from './index.js';
import { TarReader } from '../tar/index.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const nobody = 65534;
/** The CLI built next to this test (dist/cmd/lkvol.js, or the same place under any --outDir). */
const builtBin = fileURLToPath(new URL('../../cmd/lkvol.js', import.meta.url));

/**
 * Modes a non-root user cannot work with directly: 0555 and 0000 directories with children, 0000 files replaced and
 * linked, setuid, devices.
 */
const layers: TarEntry[][] = [
  [
    { name: 'ro', type: 'dir', mode: 0o555 },
    { name: 'ro/a', content: 'a', mode: 0 },
    { name: 'none', type: 'dir', mode: 0 },
    { name: 'none/sub', type: 'dir', mode: 0o500 },
    { name: 'none/sub/f', content: 'f' },
    { name: 'bin/su', content: 'su', mode: 0o4755 },
    { name: 'etc/shadow', content: 'x', mode: 0o640, gid: 42 },
    { name: 'home/u', type: 'dir', mode: 0o700, uid: 1000, gid: 1000 },
    { name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
    { name: 'run/p', type: 'fifo', mode: 0o600 },
    { name: 'lnk', type: 'symlink', linkname: '/bin/su' },
  ],
  [
    { name: 'ro/b', content: 'b' },
    { name: 'ro/a', content: 'a2', mode: 0 },
    { name: 'ro/h', type: 'link', linkname: 'ro/a' },
    { name: 'none/sub/.wh.f' },
    { name: 'none/sub/g', content: 'g', mode: 0o444 },
  ],
];

const suite = useRegistry({ name: 'rootless' });
/** nobody runs a copy: the checkout may lie under a directory only root can enter (a clone in /root). */
let cli: CliCopy;

suite.before(async () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root and drops to uid 65534 for the build');
  cli = await copyCliForOtherUsers(builtBin);
  await chown(suite.work, nobody, nobody);
  await chmod(suite.work, 0o700);
  await pushTarImage({ registry: suite.registry.host, repository: 'rootless/modes', tag: '1', layers });
});

after(async () => {
  await cli?.remove();
});

/** Every member of a tar as one line: header fields, PAX records and a digest of the data. */
async function tarMembers(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const { header: h, body } of new TarReader(createReadStream(path)).members()) {
    const hash = createHash('sha256');
    for await (const c of body) hash.update(c);
    const pax = Object.entries(h.pax).map(([k, v]) => `${k}=${Buffer.from(v).toString('hex')}`);
    out.push(
      `${h.name} ${h.typeflag} ${h.mode.toString(8)} ${h.uid}:${h.gid} ${h.mtime} ${h.size} ${h.linkname} ${h.devmajor},${h.devminor} [${pax.join(' ')}] ${hash.digest('hex')}`,
    );
  }
  return out;
}

/** Runs the built CLI as nobody; resolves with the exit code and stderr. */
function runAsNobody(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return nodeAsNobody([cli.bin, ...args]);
}

/** Runs node with `args` as nobody, in the suite's work directory. */
function nodeAsNobody(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, args, {
    uid: nobody,
    gid: nobody,
    cwd: suite.work,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: suite.work },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('as an ordinary user: files belong to the user, modes are restored, ownership and devices are recorded', async () => {
  const file = join(suite.work, 'system.yml');
  await writeFile(file, `volumes:\n  - name: v\n    image: ${suite.registry.host}/rootless/modes:1\n`);
  await chown(file, nobody, nobody);
  const out = join(suite.work, 'out');
  const r = await runAsNobody([
    'build',
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
  assert.equal(r.stderr.match(/device nodes not created/g)?.length, 1, `one summary warning for devices: ${r.stderr}`);

  const me = { uid: nobody, gid: nobody };
  const lower = join(out, 'containers/volumes/v/lower');
  assert.deepEqual(describeTree(await walkTree(lower)), [
    d('bin', 0o755, me),
    f('bin/su', 'su', { mode: 0o755, ...me }),
    d('dev', 0o755, me),
    d('etc', 0o755, me),
    f('etc/shadow', 'x', { mode: 0o640, ...me }),
    d('home', 0o755, me),
    d('home/u', 0o700, me),
    s('lnk', '/bin/su', me),
    d('none', 0, me),
    d('none/sub', 0o500, me),
    f('none/sub/g', 'g', { mode: 0o444, ...me }),
    d('ro', 0o555, me),
    f('ro/a', 'a2', { mode: 0, ...me, inode: 'ro/a' }),
    f('ro/b', 'b', { mode: 0o644, ...me }),
    f('ro/h', 'a2', { mode: 0, ...me, inode: 'ro/a' }),
    d('run', 0o755, me),
    `run/p fifo 0600 ${nobody}:${nobody}`,
  ]);

  const record = JSON.parse(await readFile(join(out, 'lkvol.json'), 'utf8')) as { volumes: VolumeRecord[] };
  const volume = record.volumes[0]!;
  const own = (path: string, mode: string, uid = 0, gid = 0) => ({ path, uid, gid, mode });
  assert.deepEqual(volume.ownership, [
    own('bin', '0755'),
    own('bin/su', '4755'),
    own('dev', '0755'),
    own('etc', '0755'),
    own('etc/shadow', '0640', 0, 42),
    own('home', '0755'),
    own('home/u', '0700', 1000, 1000),
    own('lnk', '0777'),
    own('none', '0000'),
    own('none/sub', '0500'),
    own('none/sub/g', '0444'),
    own('ro', '0555'),
    own('ro/a', '0000'),
    own('ro/b', '0644'),
    own('ro/h', '0000'),
    own('run', '0755'),
    own('run/p', '0600'),
  ]);
  assert.deepEqual(volume.skipped, [
    { path: 'dev/null', type: 'char', mode: '0666', uid: 0, gid: 0, major: 1, minor: 3, mtime: 1_700_000_000 },
  ]);
});

test('tar output: as an ordinary user the same bytes as as root, lkvol.json included, and the same bytes every time', async () => {
  const file = join(suite.work, 'tar.yml');
  const image = `${suite.registry.host}/rootless/modes:1`;
  await writeFile(file, `volumes:\n  - name: v\n    image: ${image}\nservices:\n  - name: s\n    image: ${image}\n`);
  await chown(file, nobody, nobody);
  for (const name of ['nobody.tar', 'nobody2.tar']) {
    const r = await runAsNobody([
      'build',
      '-q',
      '--rootfs',
      '-o',
      join(suite.work, name),
      '--cache',
      join(suite.work, 'cache'),
      '--platform',
      'linux/amd64',
      file,
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  await build({
    files: [file],
    out: join(suite.work, 'root.tar'),
    cacheDir: join(suite.work, 'root-cache'),
    platform: 'linux/amd64',
    applyOwnership: true,
    rootfs: true,
  });
  assert.ok(
    (await readFile(join(suite.work, 'nobody.tar'))).equals(await readFile(join(suite.work, 'nobody2.tar'))),
    'two builds: the same bytes',
  );
  const [asNobody, asRoot] = await Promise.all([
    tarMembers(join(suite.work, 'nobody.tar')),
    tarMembers(join(suite.work, 'root.tar')),
  ]);
  assert.ok(asRoot.length > 50);
  assert.deepEqual(asNobody, asRoot, 'member by member');
  assert.ok(
    (await readFile(join(suite.work, 'nobody.tar'))).equals(await readFile(join(suite.work, 'root.tar'))),
    'byte for byte',
  );
  const listing = execFileSync(
    'tar',
    ['-tvf', join(suite.work, 'root.tar'), '--numeric-owner', 'containers/volumes/v/lower'],
    { encoding: 'utf8' },
  );
  assert.match(listing, /^-rwsr-xr-x 0\/0 +2 [^\n]* containers\/volumes\/v\/lower\/bin\/su$/m);
  assert.match(listing, /^crw-rw-rw- 0\/0 +1,3 [^\n]* containers\/volumes\/v\/lower\/dev\/null$/m);
  assert.match(listing, /^-rw-r----- 0\/42 [^\n]* containers\/volumes\/v\/lower\/etc\/shadow$/m);
  assert.match(listing, /^d--------- 0\/0 [^\n]* containers\/volumes\/v\/lower\/none\/$/m);
  assert.match(
    listing,
    /^hrw*-* 0\/0 [^\n]* containers\/volumes\/v\/lower\/ro\/h link to containers\/volumes\/v\/lower\/ro\/a$|^h--------- 0\/0 [^\n]* containers\/volumes\/v\/lower\/ro\/h link to containers\/volumes\/v\/lower\/ro\/a$/m,
  );
  assert.match(listing, /^prw------- 0\/0 [^\n]* containers\/volumes\/v\/lower\/run\/p$/m);
});

test('as an ordinary user: a previous output with 0555 and 0000 directories is replaced, and a failed build leaves no staging behind', async () => {
  const file = join(suite.work, 'replace.yml');
  const out = join(suite.work, 'replace-out');
  const args = ['build', '-q', '-o', out, '--cache', join(suite.work, 'cache'), '--platform', 'linux/amd64', file];
  await writeFile(file, `volumes:\n  - name: v\n    image: ${suite.registry.host}/rootless/modes:1\n`);
  await chown(file, nobody, nobody);
  for (let i = 0; i < 2; i++) {
    const r = await runAsNobody(args);
    assert.equal(r.code, 0, `build ${i + 1}: ${r.stderr}`);
  }
  // The unchanged volume is not reused: its 0000 directory cannot be read, and the old output is never chmod-ed.
  const again = await runAsNobody(args.map((a) => (a === '-q' ? '--progress=plain' : a)));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /volume v: \d+ files/);
  assert.doesNotMatch(again.stderr, /reused/);
  // The second layer names a file under a directory that is 0000 in the image: fine. Now a layer
  // that fails after the 0555/0000 directories exist in staging: the staging must still go away.
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'rootless/fails',
    tag: '1',
    layers: [...layers, [{ name: 'ro/x', type: 'link', linkname: 'missing' }]],
  });
  await writeFile(file, `volumes:\n  - name: v\n    image: ${suite.registry.host}/rootless/fails:1\n`);
  const failed = await runAsNobody(args);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /\(LKVOL_LAYER_UNSAFE_PATH\)/);
  assert.deepEqual(
    (await readdir(suite.work)).filter((n) => n.startsWith('.replace-out.')),
    [],
    failed.stderr,
  );
  assert.equal(await readFile(join(out, 'containers/volumes/v/lower/ro/b'), 'utf8'), 'b');
});

test('as an ordinary user: an unchanged volume whose root is 0555 is reused though it cannot be moved', async () => {
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'rootless/readonly-root',
    tag: '1',
    layers: [
      [
        { name: './', type: 'dir', mode: 0o555 },
        { name: 'kept', content: 'kept' },
      ],
    ],
  });
  const file = join(suite.work, 'two.yml');
  const out = join(suite.work, 'two-out');
  const args = ['build', '--progress=plain', '-o', out, '--cache', join(suite.work, 'cache'), file];
  const system = (other: string) =>
    `volumes:\n  - name: keep\n    image: ${suite.registry.host}/rootless/readonly-root:1\n` +
    `  - name: other\n    image: ${suite.registry.host}/${other}\n`;
  await writeFile(file, system('rootless/modes:1'));
  await chown(file, nobody, nobody);
  const first = await runAsNobody(args);
  assert.equal(first.code, 0, first.stderr);
  await writeFile(file, system('rootless/readonly-root:1'));
  const r = await runAsNobody(args);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /volume keep: unchanged, reused/);
  assert.equal(await readFile(join(out, 'containers/volumes/keep/lower/kept'), 'utf8'), 'kept');
  assert.deepEqual(
    (await readdir(suite.work)).filter((n) => n.startsWith('.two-out.')),
    [],
    r.stderr,
  );
});

test('as an ordinary user: removeTree removes 0555 and 0000 directories though rm fails while its other removals go on', async () => {
  // rm rejects at the first EACCES (a-ro/x, early) while it is still removing the deep chains beside it; the
  // retry then walks a tree whose entries vanish under it. Three trees, so the race is met every run.
  const trees = ['t1', 't2', 't3'].map((n) => join(suite.work, 'remove', n));
  for (const tree of trees) {
    await mkdir(join(tree, 'a-ro'), { recursive: true });
    await writeFile(join(tree, 'a-ro', 'x'), 'x');
    await mkdir(join(tree, 'b-none', 'sub'), { recursive: true });
    await writeFile(join(tree, 'b-none', 'sub', 'y'), 'y');
    for (let i = 0; i < 40; i++) {
      const deep = join(tree, `c${i}`, ...Array<string>(40).fill('s'));
      await mkdir(deep, { recursive: true });
      await writeFile(join(deep, 'f'), 'f');
    }
  }
  execFileSync('chown', ['-R', `${nobody}:${nobody}`, join(suite.work, 'remove')]);
  for (const tree of trees) {
    await chmod(join(tree, 'a-ro'), 0o555);
    await chmod(join(tree, 'b-none', 'sub'), 0o500);
    await chmod(join(tree, 'b-none'), 0);
  }
  const remove = join(dirname(dirname(cli.bin)), 'lib', 'internal', 'remove.js');
  const script = `const { removeTree } = await import(process.argv[1]); for (const t of process.argv.slice(2)) await removeTree(t);`;
  const r = await nodeAsNobody(['--input-type=module', '-e', script, remove, ...trees]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readdir(join(suite.work, 'remove')), []);
});

test('as an ordinary user: a previous output that cannot be removed after the swap is reported, and the build succeeds', async () => {
  const file = join(suite.work, 'stuck.yml');
  const out = join(suite.work, 'stuck-out');
  const args = ['build', '--progress=plain', '-o', out, '--cache', join(suite.work, 'cache'), file];
  await writeFile(file, `volumes:\n  - name: v\n    image: ${suite.registry.host}/rootless/modes:1\n`);
  await chown(file, nobody, nobody);
  const first = await runAsNobody(args);
  assert.equal(first.code, 0, first.stderr);
  // A directory of root's in the old tree: nobody can neither empty it nor chmod it.
  const stuck = join(out, 'containers/volumes/v/lower/ro/stuck');
  await mkdir(stuck);
  await writeFile(join(stuck, 'f'), 'f');
  const r = await runAsNobody(args);
  assert.equal(r.code, 0, r.stderr);
  const [left, ...more] = (await readdir(suite.work)).filter((n) => n.startsWith('.stuck-out.'));
  assert.match(left ?? '', /^\.stuck-out\.old-\d+-[0-9a-f]+$/);
  assert.deepEqual(more, []);
  assert.match(
    r.stderr,
    new RegExp(
      `warning: remove the previous output ${join(suite.work, left!).replace(/[.]/g, '\\.')}: EACCES.*; ` +
        `the next build into OUT tries again to remove it \\(LKVOL_WARN_PREVIOUS_LEFT\\)`,
    ),
  );
  assert.equal(await readFile(join(out, 'containers/volumes/v/lower/ro/b'), 'utf8'), 'b');
  await assert.rejects(readdir(join(out, 'containers/volumes/v/lower/ro/stuck')), { code: 'ENOENT' });
});
