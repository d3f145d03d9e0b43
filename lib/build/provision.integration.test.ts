// Provisioners: programs whose stdout is a volume's content as a tar, unpacked like an image layer. No registry needed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createBlobCache } from '../cache/index.js';
import { loadConfig } from '../config/index.js';
import { resolveBuildOptions } from './options.js';
import { createProvisionerRuns, extractProvisioned } from './provision.js';
import { join } from 'node:path';
import { build } from './index.js';
import { isLkvolError } from '../errors.js';
import { buildTar } from '../internal/testing/tar.js';
import type { BuildRecord } from './record.js';
import type { BuildEvent } from '../events.js';
import { useWorkDir } from '../internal/testing/temp.js';

const suite = useWorkDir('provision');
let bin: string;

suite.before(async () => {
  bin = join(suite.work, 'bin');
  await mkdir(bin);
  // A named provisioner on PATH: it writes its params and environment into the volume.
  await script(
    join(bin, 'lkvol-provisioner-certs'),
    'd=$(mktemp -d); cat > "$d/params.json"; printf "%s %s %s\\n" "$LKVOL_VOLUME" "$LKVOL_PLATFORM" "$(pwd)" > "$d/env"; tar -c -C "$d" . ; rm -rf "$d"',
  );
  await writeFile(
    join(suite.work, 'evil.tar'),
    await buildTar([
      { name: 'ok', content: 'ok' },
      { name: '../../escaped', content: 'pwned' },
    ]),
  );
});

async function script(path: string, body: string): Promise<void> {
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
}

/** Build options around a system file, provisioners found on `bin` (and ownership applied as root, as the CLI does). */
const setup = (name: string, yaml: string) =>
  suite.buildOptions(name, yaml, { env: { PATH: `${bin}:/usr/bin:/bin`, HOME: suite.work } });

describe('provisioners', () => {
  test('a command relative to the system file writes a tar: unpacked into lower/, recorded with its command and params digest', async () => {
    const o = await setup(
      'site',
      'volumes:\n  - name: site\n    provisioner:\n      command: [./render.sh, --env, prod]\n',
    );
    await script(
      join(o.dir, 'render.sh'),
      'd=$(mktemp -d); mkdir "$d/www"; echo "<h1>$1 $2</h1>" > "$d/www/index.html"; tar -c -C "$d" . ; rm -rf "$d"',
    );
    const { record } = await build(o);
    assert.equal(
      await readFile(join(o.out, 'containers/volumes/site/lower/www/index.html'), 'utf8'),
      '<h1>--env prod</h1>\n',
    );
    const v = (record as BuildRecord).volumes[0]!;
    assert.deepEqual([v.image, v.provisioner?.command, v.files], [null, './render.sh --env prod', 1]);
    assert.match(v.provisioner?.paramsDigest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.match(v.contentDigest, /^sha256:/);
  });

  test("a named provisioner is found on PATH; its params reach stdin; it runs in the system file's directory with a minimal environment", async () => {
    const o = await setup(
      'certs',
      'volumes:\n  - name: certs\n    provisioner:\n      name: certs\n      params: {cn: example.com}\n',
    );
    await build(o);
    assert.deepEqual(JSON.parse(await readFile(join(o.out, 'containers/volumes/certs/lower/params.json'), 'utf8')), {
      cn: 'example.com',
    });
    assert.equal(
      await readFile(join(o.out, 'containers/volumes/certs/lower/env'), 'utf8'),
      `certs linux/amd64 ${o.dir}\n`,
    );
  });

  test('a hostile tar is refused, naming the entry; nothing outside the volume is written and no output appears', async () => {
    const o = await setup(
      'evil',
      `volumes:\n  - name: v\n    provisioner:\n      command: [/bin/cat, ${join(suite.work, 'evil.tar')}]\n`,
    );
    await assert.rejects(
      build(o),
      (e: unknown) => isLkvolError(e, 'LKVOL_LAYER_UNSAFE_PATH') && e.message.includes('../../escaped'),
    );
    await assert.rejects(lstat(join(suite.work, 'escaped')));
    await assert.rejects(lstat(o.out));
  });

  test('a failing provisioner: LKVOL_PROVISIONER naming the volume, the program, its status and the end of its stderr', async () => {
    const o = await setup('fails', 'volumes:\n  - name: v\n    provisioner:\n      command: [./fail.sh]\n');
    await script(join(o.dir, 'fail.sh'), 'echo "cannot reach the vault" >&2; exit 3');
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_PROVISIONER') &&
        /^volume "v": provisioner "\.\/fail\.sh" exited with status 3; its stderr ends:\ncannot reach the vault$/.test(
          e.message,
        ),
    );
    await assert.rejects(lstat(o.out));
  });

  test('past its timeout the process group is killed, also a program that ignores SIGTERM and its children', async () => {
    for (const [name, body] of [
      ['hangs', 'sleep 30'],
      ['stubborn', "trap '' TERM; (sleep 30 &) ; sleep 30"],
    ] as const) {
      const o = await setup(
        name,
        `volumes:\n  - name: v\n    provisioner:\n      command: [./${name}.sh]\n      timeout: 500ms\n`,
      );
      await script(join(o.dir, `${name}.sh`), body);
      const started = Date.now();
      await assert.rejects(
        build(o),
        (e: unknown) =>
          isLkvolError(e, 'LKVOL_PROVISIONER') && /did not finish within 0\.5 s and was killed/.test(e.message),
      );
      assert.ok(Date.now() - started < 10_000, name);
    }
  });

  test("cancelling the build kills the provisioner's process group and reports the cancellation", async () => {
    const o = await setup('cancel', 'volumes:\n  - name: v\n    provisioner:\n      command: [./slow.sh]\n');
    const pidFile = join(o.dir, 'child.pid');
    await script(join(o.dir, 'slow.sh'), `sleep 30 & echo $! > ${pidFile}; wait`);
    const abort = new AbortController();
    const started = Date.now();
    const run = build({ ...o, signal: abort.signal });
    for (let i = 0; i < 100 && !(await readFile(pidFile, 'utf8').catch(() => '')).trim(); i++)
      await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    await assert.rejects(run, (e: unknown) => isLkvolError(e, 'LKVOL_CANCELLED'));
    assert.ok(Date.now() - started < 10_000);
    const child = Number((await readFile(pidFile, 'utf8')).trim());
    await new Promise((r) => setTimeout(r, 100));
    // Gone, or a zombie waiting for whoever reaps orphans here: not running either way.
    const state = await readFile(`/proc/${child}/stat`, 'utf8').then(
      (t) => t.slice(t.lastIndexOf(')') + 2, t.lastIndexOf(')') + 3),
      () => 'gone',
    );
    assert.ok(state === 'gone' || state === 'Z', `the provisioner's own child is killed too (state ${state})`);
    await assert.rejects(lstat(o.out));
  });

  test('a rebuild whose provisioner writes the same stream leaves OUT alone; it runs once per build; its output is not kept', async () => {
    const o = await setup(
      'same-stream',
      'volumes:\n  - name: v\n    provisioner:\n      command: [./gen.sh]\n      params: {n: 1}\n',
    );
    // Counts its runs outside the volume; the tar depends only on content.txt (fixed mtimes).
    await script(
      join(o.dir, 'gen.sh'),
      'echo run >> "$(pwd)/runs"; d=$(mktemp -d); cp content.txt "$d/c"; touch -d @0 "$d/c" "$d"; tar -c --owner=0 --group=0 --numeric-owner -C "$d" . ; rm -rf "$d"',
    );
    await writeFile(join(o.dir, 'content.txt'), 'one\n');
    const runs = async () => (await readFile(join(o.dir, 'runs'), 'utf8')).split('\n').length - 1;
    const first = (await build(o)).record.volumes[0]!;
    assert.match(first.provisioner?.streamDigest ?? '', /^sha256:[0-9a-f]{64}$/);
    const inodes = async () =>
      Promise.all(
        ['', 'lkvol.json', 'containers/volumes/v/lower/c'].map(async (p) => (await lstat(join(o.out, p))).ino),
      );
    const before = await inodes();
    const events: BuildEvent[] = [];
    await build({ ...o, onEvent: (e) => events.push(e) });
    assert.deepEqual(await inodes(), before, 'nothing rewritten or renamed');
    assert.ok(events.some((e) => e.kind === 'volume-done' && e.reused));
    assert.equal(await runs(), 2);
    // Another stream: the volume is written again, from the one run of this build.
    await writeFile(join(o.dir, 'content.txt'), 'two\n');
    const changed = (await build(o)).record.volumes[0]!;
    assert.equal(await readFile(join(o.out, 'containers/volumes/v/lower/c'), 'utf8'), 'two\n');
    assert.notEqual(changed.provisioner?.streamDigest, first.provisioner?.streamDigest);
    assert.equal(await runs(), 3);
    // Other params, same stream: not the same inputs, so not reused.
    await writeFile(
      join(o.dir, 'system.yml'),
      'volumes:\n  - name: v\n    provisioner:\n      command: [./gen.sh]\n      params: {n: 2}\n',
    );
    const lowerInode = (await lstat(join(o.out, 'containers/volumes/v/lower/c'))).ino;
    const reparam = (await build(o)).record.volumes[0]!;
    assert.equal(reparam.provisioner?.streamDigest, changed.provisioner?.streamDigest);
    assert.notEqual(reparam.provisioner?.paramsDigest, changed.provisioner?.paramsDigest);
    assert.notEqual((await lstat(join(o.out, 'containers/volumes/v/lower/c'))).ino, lowerInode, 'extracted again');
    assert.equal(await runs(), 4);
    // A volume changed in OUT by hand is not reused, whatever the provisioner wrote.
    await writeFile(join(o.out, 'containers/volumes/v/lower/c'), 'edited\n');
    await build(o);
    assert.equal(await readFile(join(o.out, 'containers/volumes/v/lower/c'), 'utf8'), 'two\n');
    // The streams were kept in the cache's tmp directory only while each build ran.
    assert.deepEqual(await readdir(join(o.cacheDir!, 'v1', 'tmp')), []);
  });

  test("a provisioner whose tar breaks the volume's sizeLimit is refused by the extractor; no output appears", async () => {
    const o = await setup(
      'too-big',
      'volumes:\n  - name: v\n    sizeLimit: 1Ki\n    provisioner:\n      command: [./big.sh]\n',
    );
    await script(
      join(o.dir, 'big.sh'),
      'd=$(mktemp -d); head -c 4096 /dev/zero > "$d/big"; tar -c -C "$d" . ; rm -rf "$d"',
    );
    await assert.rejects(
      build(o),
      (e: unknown) => isLkvolError(e, 'LKVOL_LAYER_LIMIT') && /sizeLimit of volume "v"/.test(e.message),
    );
    await assert.rejects(lstat(o.out));
  });

  test('output that is not a tar stops the program at once (it would fill the disk up to the byte budget); a gzip-compressed tar is fine', async () => {
    const o = await setup(
      'not-tar',
      'volumes:\n  - name: v\n    provisioner:\n      command: [/usr/bin/yes]\n      timeout: 10m\n',
    );
    await assert.rejects(
      build(o),
      (e: unknown) => isLkvolError(e, 'LKVOL_LAYER_CORRUPT') && e.message.includes('provisioner /usr/bin/yes'),
    );
    assert.deepEqual(await readdir(join(o.cacheDir!, 'v1', 'tmp')), []);
    const gz = await setup('gzip', 'volumes:\n  - name: v\n    provisioner:\n      command: [./gz.sh]\n');
    await script(join(gz.dir, 'gz.sh'), 'd=$(mktemp -d); echo packed > "$d/f"; tar -cz -C "$d" . ; rm -rf "$d"');
    await build(gz);
    assert.equal(await readFile(join(gz.out, 'containers/volumes/v/lower/f'), 'utf8'), 'packed\n');
  });

  test('a program that fails says so with its status and stderr, whatever it wrote on stdout', async () => {
    const o = await setup('usage', 'volumes:\n  - name: v\n    provisioner:\n      command: [./usage.sh]\n');
    await script(join(o.dir, 'usage.sh'), 'echo "usage: usage.sh DIR" ; echo "missing DIR" >&2; exit 2');
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_PROVISIONER') && /exited with status 2; its stderr ends:\nmissing DIR/.test(e.message),
    );
  });

  test('more entries or more file bytes than the volume may hold stop the program at the first header over the cap', async () => {
    // Each writes its tar and then waits far longer than the timeout: only an early stop gives the limit error.
    const entries = await setup(
      'many',
      'volumes:\n  - name: v\n    provisioner:\n      command: [./many.sh]\n      timeout: 20s\n',
    );
    await script(
      join(entries.dir, 'many.sh'),
      'd=$(mktemp -d); for i in 1 2 3 4 5 6; do echo $i > "$d/$i"; done; tar -c -C "$d" .; rm -rf "$d"; sleep 60',
    );
    await assert.rejects(
      build({ ...entries, limits: { maxEntries: 3 } }),
      (e: unknown) => isLkvolError(e, 'LKVOL_LAYER_LIMIT') && /entry count exceeds maxEntries \(3\)/.test(e.message),
    );
    const bytes = await setup(
      'big',
      'volumes:\n  - name: v\n    sizeLimit: 1Ki\n    provisioner:\n      command: [./big.sh]\n      timeout: 20s\n',
    );
    await script(
      join(bytes.dir, 'big.sh'),
      'd=$(mktemp -d); head -c 4096 /dev/zero > "$d/big"; tar -c -C "$d" .; rm -rf "$d"; sleep 60',
    );
    await assert.rejects(
      build(bytes),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LAYER_LIMIT') &&
        /file content \(4096 bytes declared\) exceeds sizeLimit of volume "v"/.test(e.message),
    );
  });

  test("a failed extraction leaves other files' descriptors alone: the kept output is closed once, by the build", async () => {
    const o = await setup(
      'fd',
      `volumes:\n  - name: v\n    provisioner:\n      command: [/bin/cat, ${join(suite.work, 'evil.tar')}]\n`,
    );
    const options = resolveBuildOptions({
      files: o.files,
      out: o.out,
      cacheDir: o.cacheDir!,
      platform: 'linux/amd64',
      env: o.env,
    });
    const runs = createProvisionerRuns(await createBlobCache({ dir: o.cacheDir! }), options);
    const volume = (await loadConfig(o.files)).volumes[0]!;
    const provisioned = { ...volume, provisioner: volume.provisioner! };
    const output = await runs.run(provisioned);
    const root = join(o.dir, 'root');
    await mkdir(root);
    await assert.rejects(extractProvisioned(provisioned, output, { root, options }), (e: unknown) =>
      isLkvolError(e, 'LKVOL_LAYER_UNSAFE_PATH'),
    );
    // A file opened now would get the spool's number had the failed read closed it; discard must not close it.
    const other = openSync(join(o.dir, 'other'), 'w');
    await runs.discard();
    assert.doesNotThrow(() => fstatSync(other));
    closeSync(other);
  });

  test('a program that cannot be started is LKVOL_PROVISIONER naming why, on a first build and a rebuild alike', async () => {
    const o = await setup('no-interpreter', 'volumes:\n  - name: v\n    provisioner:\n      command: [./broken.sh]\n');
    await writeFile(join(o.dir, 'broken.sh'), '#!/nonexistent/interpreter\n', { mode: 0o755 });
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_PROVISIONER') &&
        /volume "v": provisioner "\.\/broken\.sh" could not be started: .*ENOENT/.test(e.message),
    );
    await script(join(o.dir, 'broken.sh'), 'd=$(mktemp -d); echo ok > "$d/f"; tar -c -C "$d" . ; rm -rf "$d"');
    await build(o);
    await writeFile(join(o.dir, 'broken.sh'), '#!/nonexistent/interpreter\n', { mode: 0o755 });
    // The no-change check runs it first: the same error, not an internal one.
    await assert.rejects(
      build(o),
      (e: unknown) => isLkvolError(e, 'LKVOL_PROVISIONER') && /could not be started/.test(e.message),
    );
    assert.equal(await readFile(join(o.out, 'containers/volumes/v/lower/f'), 'utf8'), 'ok\n');
  });

  test('the kept output is read through its open descriptor: removed from the cache meanwhile (a stale-temp sweep), it is still extracted', async () => {
    const o = await setup('swept', 'volumes:\n  - name: v\n    provisioner:\n      command: [./gen.sh]\n');
    await script(join(o.dir, 'gen.sh'), 'd=$(mktemp -d); echo kept > "$d/f"; tar -c -C "$d" . ; rm -rf "$d"');
    const options = resolveBuildOptions({
      files: o.files,
      out: o.out,
      cacheDir: o.cacheDir!,
      platform: 'linux/amd64',
      env: o.env,
    });
    const runs = createProvisionerRuns(await createBlobCache({ dir: o.cacheDir! }), options);
    const config = await loadConfig(o.files);
    const volume = config.volumes[0]!;
    const output = await runs.run({ ...volume, provisioner: volume.provisioner! });
    const tmp = join(o.cacheDir!, 'v1', 'tmp');
    for (const f of await readdir(tmp)) await rm(join(tmp, f));
    const root = join(o.dir, 'root');
    await mkdir(root);
    await extractProvisioned({ ...volume, provisioner: volume.provisioner! }, output, { root, options });
    assert.equal(await readFile(join(root, 'f'), 'utf8'), 'kept\n');
    await runs.discard();
  });

  test('a provisioner that is not there is a configuration error at its line, before anything runs', async () => {
    const o = await setup(
      'missing',
      'volumes:\n  - name: a\n    provisioner:\n      name: nope\n  - name: b\n    provisioner:\n      command: [./absent.sh]\n',
    );
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_CONFIG_INVALID') &&
        /system\.yml:4:7: volumes\[0\]\.provisioner: volume "a": provisioner lkvol-provisioner-nope is not on PATH/.test(
          e.message,
        ) &&
        /system\.yml:7:7: volumes\[1\]\.provisioner: .*"\.\/absent\.sh" is not an executable file/.test(e.message),
    );
    assert.deepEqual((await readdir(o.dir)).sort(), ['system.yml']);
  });

  test('an image and a provisioner, or neither a name nor a command, are refused', async () => {
    const o = await setup(
      'both',
      'volumes:\n  - name: a\n    image: alpine\n    provisioner:\n      command: [x]\n  - name: b\n    provisioner: {}\n',
    );
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_CONFIG_INVALID') &&
        /image or a provisioner, not both/.test(e.message) &&
        /a name .* or a command, one of the two/.test(e.message),
    );
  });
});
