// Tar output: -o OUT.tar, --format tar and -o - write the built tree as one reproducible tar, checked with GNU tar.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from './index.js';
import { isLkvolError } from '../errors.js';
import { pushTarImage } from '../internal/testing/images.js';
import { describeTree, readXattrs, walkTree } from '../internal/testing/tree.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const builtBin = fileURLToPath(new URL('../../cmd/lkvol.js', import.meta.url));
const longName = `deep/${'d'.repeat(120)}/file-with-a-long-name.txt`;
const suite = useRegistry({ name: 'tar' });

suite.before(async () => {
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'tar/data',
    tag: '1',
    layers: [
      [
        { name: 'bin', type: 'dir' },
        { name: 'bin/tool', content: 'tool\n', mode: 0o4755 },
        { name: 'bin/tool-link', type: 'link', linkname: 'bin/tool' },
        { name: 'etc', type: 'dir', mode: 0o750, gid: 42 },
        { name: 'etc/conf', content: 'x=1\n', mode: 0o600, uid: 1000, gid: 1000 },
        { name: 'long-link', type: 'symlink', linkname: `/${'t'.repeat(150)}` },
        { name: longName, content: 'long\n' },
        {
          name: 'tagged',
          content: 'xattr\n',
          pax: {
            'SCHILY.xattr.user.lkvol-test': 'hello',
            'SCHILY.xattr.security.capability': Buffer.from([
              1, 0, 0, 2, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ]),
          },
        },
        { name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
      ],
    ],
  });
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'tar/evil',
    tag: '1',
    layers: [[{ name: '../escape', content: 'x' }]],
  });
});

const system =
  'volumes:\n  - name: v\n    image: REGISTRY/tar/data:1\n  - name: blank\nservices:\n  - name: s\n    image: REGISTRY/tar/data:1\n    binds: [v:/data]\n';

/** Tar output with --rootfs, ownership applied, around a system file; the cache is shared by the file's tests. */
const setup = (name: string, yaml = system, extra: Partial<BuildOptions> = {}) =>
  suite.buildOptions(name, yaml, {
    out: join(suite.work, name, 'out.tar'),
    cacheDir: join(suite.work, 'cache'),
    applyOwnership: true,
    rootfs: true,
    ...extra,
  });

const sha256 = async (path: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('tar output', () => {
  test("-o OUT.tar: sorted members, numeric owners, the image's modes, links, long names and xattrs; GNU tar reads it", async () => {
    const o = await setup('listing');
    const result = await build(o);
    assert.equal(result.out, o.out);
    const listing = execFileSync('tar', ['-tvf', o.out, '--numeric-owner', '--full-time'], { encoding: 'utf8' })
      .trimEnd()
      .split('\n');
    const names = listing.map((l) => l.replace(/^\S+ +\S+ +\S+ +\S+ +\S+ +/, '').replace(/ (->|link to) .*$/, ''));
    assert.deepEqual(
      names,
      [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
      'sorted by bytes',
    );
    assert.equal(names.at(-1), 'lkvol.json');
    const line = (name: string) =>
      listing.find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} `)) ?? `missing ${name}`;
    assert.match(line('containers/volumes/v/lower/bin/tool'), /^-rwsr-xr-x 0\/0 /);
    assert.match(line('containers/volumes/v/lower/etc/'), /^drwxr-x--- 0\/42 /);
    assert.match(line('containers/volumes/v/lower/etc/conf'), /^-rw------- 1000\/1000 /);
    assert.match(
      line('containers/volumes/v/lower/bin/tool-link'),
      /^h.* link to containers\/volumes\/v\/lower\/bin\/tool$/,
    );
    assert.match(line('containers/volumes/v/lower/dev/null'), /^crw-rw-rw- 0\/0 +1,3 /);
    assert.match(line('containers/volumes/v/lower/long-link'), new RegExp(`-> /${'t'.repeat(150)}$`));
    assert.ok(names.includes(`containers/volumes/v/lower/${longName}`));
    assert.match(
      line('containers/volumes/blank/lower/'),
      /^drwxr-xr-x 0\/0 +0 1970-01-01 00:00:00 /,
      'synthesised: 0:0, 0755, dated 0',
    );
    assert.match(line('containers/services/s/config.json'), /^-rw-r--r-- 0\/0 /);
    assert.ok(names.includes('containers/services/s/lower/etc/hosts'), 'with --rootfs, the bundle root');
    // Unpacked as root, it is the tree the directory output has.
    const x = join(o.dir, 'x');
    await mkdir(x);
    execFileSync('tar', ['-xpf', o.out, '--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', x]);
    const dirOut = await setup('listing-dir', system, { out: join(suite.work, 'listing-dir', 'out'), format: 'dir' });
    await build(dirOut);
    const tree = async (root: string) => describeTree((await walkTree(root)).filter((n) => n.path !== 'lkvol.json'));
    assert.deepEqual(await tree(x), await tree(dirOut.out));
    assert.deepEqual(
      await readXattrs(join(x, 'containers/volumes/v/lower')),
      await readXattrs(join(dirOut.out, 'containers/volumes/v/lower')),
    );
    assert.ok((await readXattrs(join(x, 'containers/volumes/v/lower'))).some((l) => l.includes('user.lkvol-test')));
  });

  test('reproducible: two builds give the same bytes; SOURCE_DATE_EPOCH dates what lkvol synthesises', async () => {
    const a = await setup('repro-a');
    const b = await setup('repro-b');
    await build(a);
    await build({ ...b, cacheDir: join(suite.work, 'cache-b') });
    assert.equal(await sha256(a.out), await sha256(b.out));
    await build({ ...a, sourceDateEpoch: 1_600_000_000 });
    const listing = execFileSync('tar', ['-tvf', a.out, '--full-time', 'containers/volumes/blank/'], {
      encoding: 'utf8',
    });
    assert.match(listing, /2020-09-13 12:26:40 containers\/volumes\/blank\/$/m);
  });

  test('a failed build leaves no OUT.tar and no partial file; an earlier one stays as it was', async () => {
    const o = await setup('failed');
    await build(o);
    const before = await sha256(o.out);
    await writeFile(o.files[0]!, `volumes:\n  - name: v\n    image: ${suite.registry.host}/tar/evil:1\n`);
    await assert.rejects(build(o), (e: unknown) => isLkvolError(e, 'LKVOL_LAYER_UNSAFE_PATH'));
    assert.equal(await sha256(o.out), before);
    assert.deepEqual((await readdir(o.dir)).sort(), ['out.tar', 'system.yml']);
    const fresh = await setup('failed-fresh', `volumes:\n  - name: v\n    image: REGISTRY/tar/evil:1\n`);
    await assert.rejects(build(fresh));
    assert.deepEqual(await readdir(fresh.dir), ['system.yml']);
  });

  test('cancelled while the tar is written: the build stops as a cancellation, not at the end of the tar', async () => {
    const o = await setup('cancelled');
    const controller = new AbortController();
    let bytes = 0;
    // The first bytes of the tar reach the stream: the user presses Ctrl-C.
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        controller.abort();
        callback();
      },
    });
    await assert.rejects(
      build({ ...o, out: '-', stdout, signal: controller.signal }),
      (e: unknown) => isLkvolError(e, 'LKVOL_CANCELLED') && /left as it was/.test(e.hint ?? ''),
    );
    assert.ok(bytes > 0, 'the tar had begun');
    // What a whole build writes, for comparison: much more than what the cancelled one wrote.
    const whole = await setup('cancelled-whole');
    await build(whole);
    assert.ok(bytes < (await readFile(whole.out)).length / 2, `${bytes} bytes written before stopping`);
  });

  test('only a missing file or an earlier lkvol tar is replaced', async () => {
    const o = await setup('guard');
    await writeFile(o.out, 'my notes\n');
    await assert.rejects(
      build(o),
      (e: unknown) => isLkvolError(e, 'LKVOL_OUTPUT_REFUSED') && /is a file lkvol did not write/.test(e.message),
    );
    assert.equal(await readFile(o.out, 'utf8'), 'my notes\n');
    const plainTar = join(o.dir, 'plain.tar');
    execFileSync('tar', ['-cf', plainTar, '-C', o.dir, 'system.yml']);
    await assert.rejects(build({ ...o, out: plainTar }), (e: unknown) => isLkvolError(e, 'LKVOL_OUTPUT_REFUSED'));
    await mkdir(join(o.dir, 'dir.tar'));
    await assert.rejects(
      build({ ...o, out: join(o.dir, 'dir.tar') }),
      (e: unknown) => isLkvolError(e, 'LKVOL_OUTPUT_REFUSED') && /is a directory/.test(e.message),
    );
    await assert.rejects(build({ ...o, out: join(o.dir, 'x.tar'), format: 'dir' }), (e: unknown) =>
      isLkvolError(e, 'LKVOL_USAGE'),
    );
    const ours = join(o.dir, 'ours.tar');
    await build({ ...o, out: ours });
    await build({ ...o, out: ours });
  });

  test('-o -: the tar on stdout, the same bytes as -o OUT.tar; a failed build exits non-zero', async () => {
    const o = await setup('stdout');
    await build(o);
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: Buffer; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [builtBin, ...args],
          { encoding: 'buffer', maxBuffer: 1 << 28 },
          (err, stdout, stderr) =>
            resolve({
              code: err === null ? 0 : Number((err as { code?: number }).code ?? 1),
              stdout,
              stderr: stderr.toString(),
            }),
        );
      });
    const r = await run([
      'build',
      '--rootfs',
      '-o',
      '-',
      '--cache',
      join(suite.work, 'cache'),
      '--platform',
      'linux/amd64',
      o.files[0]!,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(createHash('sha256').update(r.stdout).digest('hex'), await sha256(o.out));
    await writeFile(o.files[0]!, `volumes:\n  - name: v\n    image: ${suite.registry.host}/tar/evil:1\n`);
    const failed = await run(['build', '-o', '-', '--cache', join(suite.work, 'cache'), o.files[0]!]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /LKVOL_LAYER_UNSAFE_PATH/);
    const json = await run(['build', '--json', '-o', '-', o.files[0]!]);
    assert.equal(json.code, 2);
  });
});
