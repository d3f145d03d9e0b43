// Tests of extractLayer as a stream consumer: diffIds, draining for the verifier, times, cancellation, state.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, chown, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { createVerifier, type Digest } from '../digest/index.js';
import { isLkvolError } from '../errors.js';
import {
  applyLayers,
  chunked,
  createSandbox,
  assertSentinelUnchanged,
  sha256Digest,
} from '../internal/testing/layer-sandbox.js';
import { buildTar, gzip } from '../internal/testing/tar.js';
import { createExtractState, extractLayer } from './index.js';

test('the diffId is the digest of the uncompressed stream and is checked (case 48)', async (t) => {
  const sb = await createSandbox(t);
  const tar = await buildTar([{ name: 'a', content: 'a' }]);
  const ok = await applyLayers(sb, [{ blob: gzip(tar) }], { diffIds: [sha256Digest(tar)] });
  assert.equal(ok.results[0]?.diffId, sha256Digest(tar));
  const wrong = sha256Digest(Buffer.from('other'));
  await assert.rejects(
    applyLayers(sb, [{ blob: gzip(tar) }], { diffIds: [wrong] }),
    (err) => isLkvolError(err, 'LKVOL_DIGEST_MISMATCH') && err.message.includes('diff_id'),
  );
  await assertSentinelUnchanged(sb);
});

test('the blob is read to EOF past the end marker, so an upstream verifier finishes', async (t) => {
  const sb = await createSandbox(t);
  const blob = gzip(await buildTar([{ name: 'a' }], { after: Buffer.alloc(64 * 1024) }));
  const verify = (digest: Digest) =>
    chunked(blob, 100).pipe(createVerifier({ digest, size: blob.length, subject: 'layer' }));
  const state = createExtractState();
  await extractLayer(verify(sha256Digest(blob)), { root: sb.root, layer: 'sha256:l', state });
  // NB: the verifier only fails at EOF, so this error proves the extractor read everything.
  await assert.rejects(
    extractLayer(verify(sha256Digest(Buffer.from('x'))), { root: sb.root, layer: 'sha256:l', state }),
    (err) => isLkvolError(err, 'LKVOL_DIGEST_MISMATCH'),
  );
});

test('mtimes: files, symlinks, PAX fractions, directories after their children, the root', async (t) => {
  const sb = await createSandbox(t);
  await applyLayers(sb, [
    [
      { name: './', type: 'dir', mtime: 5000 },
      { name: 'd', type: 'dir', mtime: 1000 },
      { name: 'd/f', mtime: 2000 },
      { name: 'd/s', type: 'symlink', linkname: 'nowhere', mtime: 3000 },
      { name: 'd/p', pax: { mtime: '4000.5' } },
    ],
  ]);
  const mtime = async (p: string) => (await lstat(join(sb.root, p))).mtimeMs;
  assert.deepEqual(
    [await mtime('d'), await mtime('d/f'), await mtime('d/s'), await mtime('d/p'), await mtime('.')],
    [1_000_000, 2_000_000, 3_000_000, 4_000_500, 5_000_000],
  );
});

test('directory times survive later layers that change their children, and implicit parents take the entry time', async (t) => {
  const sb = await createSandbox(t);
  await applyLayers(sb, [
    [
      { name: 'd', type: 'dir', mtime: 1000 },
      { name: 'd/f' },
      { name: 'e', type: 'dir', mtime: 1500 },
      { name: 'e/x' },
    ],
    [{ name: 'd/g', mtime: 2000 }, { name: 'd/.wh.f' }, { name: 'e/.wh..wh..opq' }, { name: 'new/sub/x', mtime: 7000 }],
  ]);
  const mtime = async (p: string) => (await lstat(join(sb.root, p))).mtimeMs;
  assert.deepEqual(
    [await mtime('d'), await mtime('e'), await mtime('new'), await mtime('new/sub')],
    [1_000_000, 1_500_000, 7_000_000, 7_000_000],
  );
});

test('implicit parents are 0755 whatever the umask', async (t) => {
  const sb = await createSandbox(t);
  const old = process.umask(0o077);
  t.after(() => process.umask(old));
  await applyLayers(sb, [[{ name: 'a/b/c' }]]);
  assert.equal((await lstat(join(sb.root, 'a/b'))).mode & 0o7777, 0o755);
});

// Files are created with their final mode when the umask allows, and chown-ed only when their owner is not lkvol's own.
for (const umask of [0o022, 0o077, 0o002]) {
  test(`modes and owners are exact whatever the umask (${umask.toString(8)})`, async (t) => {
    const sb = await createSandbox(t);
    const old = process.umask(umask);
    t.after(() => process.umask(old));
    const modes = [0o644, 0o664, 0o666, 0o777, 0o000, 0o400, 0o4755, 0o2755, 0o1777, 0o6711];
    await applyLayers(sb, [
      [
        ...modes.map((mode) => ({
          name: `f${mode.toString(8)}`,
          mode,
          uid: mode === 0o4755 ? 7 : 0,
          gid: mode === 0o2755 ? 8 : 0,
        })),
        { name: 'implicit/x' },
      ],
    ]);
    for (const mode of modes) {
      const st = await lstat(join(sb.root, `f${mode.toString(8)}`));
      assert.equal((st.mode & 0o7777).toString(8), mode.toString(8), `f${mode.toString(8)}`);
      if (process.getuid?.() === 0)
        assert.deepEqual([st.uid, st.gid], [mode === 0o4755 ? 7 : 0, mode === 0o2755 ? 8 : 0]);
    }
    assert.equal((await lstat(join(sb.root, 'implicit'))).mode & 0o7777, 0o755);
  });
}

test('as root, files below a setgid directory get the owner the archive gives them, not the directory group', async (t) => {
  assert.equal(process.getuid?.(), 0, 'owners are applied as root');
  const sb = await createSandbox(t);
  await applyLayers(sb, [
    [
      { name: 'g', type: 'dir', mode: 0o2775, gid: 50 },
      { name: 'g/same-layer', gid: 0 },
    ],
    [{ name: 'g/later', gid: 0 }, { name: 'g/sub/implicit' }],
  ]);
  const ids = async (p: string) => {
    const st = await lstat(join(sb.root, p));
    return [st.uid, st.gid, (st.mode & 0o7777).toString(8)];
  };
  assert.deepEqual(await ids('g'), [0, 50, '2775']);
  assert.deepEqual(await ids('g/same-layer'), [0, 0, '644']);
  assert.deepEqual(await ids('g/later'), [0, 0, '644']);
  assert.deepEqual(await ids('g/sub'), [0, 0, '755']);
  assert.deepEqual(await ids('g/sub/implicit'), [0, 0, '644']);
});

test("as root, a volume root that is setgid (inherited from OUT's parent; like a grpid mount, noticed on the first file) does not hand its group down", async (t) => {
  assert.equal(process.getuid?.(), 0, 'owners are applied as root');
  const sb = await createSandbox(t);
  await chown(sb.root, 0, 60);
  await chmod(sb.root, 0o2775);
  await applyLayers(sb, [[{ name: 'f' }, { name: 'd/x' }]]);
  for (const p of ['f', 'd', 'd/x']) assert.equal((await lstat(join(sb.root, p))).gid, 0, p);
});

test('as root, a default ACL above the volume (which overrides the umask) does not change the archived modes', async (t) => {
  assert.equal(process.getuid?.(), 0, 'setting a default ACL needs the xattr binding and ownership');
  const sb = await createSandbox(t);
  // system.posix_acl_default: version 2, then user::rwx, group::r-x, other::--- (files would come out 0640).
  const acl = Buffer.alloc(4 + 3 * 8);
  acl.writeUInt32LE(2, 0);
  for (const [i, [tag, perm]] of [
    [0x01, 7],
    [0x04, 5],
    [0x20, 0],
  ].entries()) {
    acl.writeUInt16LE(tag!, 4 + i * 8);
    acl.writeUInt16LE(perm!, 6 + i * 8);
    acl.writeUInt32LE(0xffffffff, 8 + i * 8);
  }
  const { setAttributeSync } = (await import('@napi-rs/xattr')) as {
    setAttributeSync(p: string, n: string, v: Uint8Array): void;
  };
  setAttributeSync(sb.root, 'system.posix_acl_default', acl);
  await applyLayers(sb, [
    [
      { name: 'implicit/first', mode: 0o644 },
      { name: 'second', mode: 0o755 },
      { name: 'd', type: 'dir', mode: 0o755 },
      { name: 'd/third', mode: 0o644 },
    ],
  ]);
  const modes = await Promise.all(
    ['implicit', 'implicit/first', 'second', 'd', 'd/third'].map(async (p) =>
      ((await lstat(join(sb.root, p))).mode & 0o7777).toString(8),
    ),
  );
  assert.deepEqual(modes, ['755', '644', '755', '755', '644']);
});

test('as root, the xattr binding is loaded by the first entry that carries xattrs, not before', async (t) => {
  assert.equal(process.getuid?.(), 0, 'xattrs are applied as root');
  const sb = await createSandbox(t);
  // A process of its own: whether the native module is loaded is per process, and this one may have loaded it.
  const script = `
    import { createRequire } from 'node:module';
    import { Readable } from 'node:stream';
    const { buildTar } = await import(${JSON.stringify(new URL('../internal/testing/tar.js', import.meta.url).href)});
    const { createExtractState, extractLayer } = await import(${JSON.stringify(new URL('./index.js', import.meta.url).href)});
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('@napi-rs'));
    const state = createExtractState();
    const apply = async (layer, entries) =>
      extractLayer(Readable.from([await buildTar(entries)]), { root: process.argv[1], layer, state, applyOwnership: true });
    // The root and a directory made before its own entry are merged; with no xattr set yet, neither needs the binding.
    await apply('sha256:a', [{ name: './', type: 'dir' }, { name: 'd/plain', content: 'x' }, { name: 'd', type: 'dir' }]);
    const before = loaded();
    await apply('sha256:b', [{ name: 'd', type: 'dir' }, { name: 'd/tagged', content: 'y', pax: { 'SCHILY.xattr.user.k': 'v' } }]);
    console.log(JSON.stringify({ before, after: loaded() }));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, sb.root]);
  assert.deepEqual(JSON.parse(stdout), { before: false, after: true });
  const { getAttributeSync } = (await import('@napi-rs/xattr')) as {
    getAttributeSync(p: string, n: string): Uint8Array | null;
  };
  assert.equal(Buffer.from(getAttributeSync(join(sb.root, 'd/tagged'), 'user.k') ?? []).toString(), 'v');
});

test('an empty blob is an empty layer', async (t) => {
  const sb = await createSandbox(t);
  const r = await applyLayers(sb, [{ blob: Buffer.alloc(0) }]);
  assert.deepEqual({ entries: r.results[0]?.entries, bytes: r.results[0]?.bytes }, { entries: 0, bytes: 0 });
});

test('a broken zstd layer is refused, and the state stays usable', async (t) => {
  const sb = await createSandbox(t);
  const state = createExtractState();
  const zstd = Readable.from([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4])]);
  await assert.rejects(extractLayer(zstd, { root: sb.root, layer: 'sha256:z', state }), (err) =>
    isLkvolError(err, 'LKVOL_LAYER_CORRUPT'),
  );
  await extractLayer(Readable.from([await buildTar([{ name: 'a' }])]), { root: sb.root, layer: 'sha256:t', state });
  assert.deepEqual({ layers: state.layers, entries: state.entries }, { layers: 1, entries: 1 });
});

test('an aborted signal cancels extraction mid-stream', async (t) => {
  const sb = await createSandbox(t);
  const tar = await buildTar([{ name: 'a', content: 'x'.repeat(10_000) }, { name: 'b' }]);
  const ac = new AbortController();
  let sent = false;
  const blob = new Readable({
    read() {
      if (sent) return;
      sent = true;
      this.push(tar.subarray(0, 1024));
      ac.abort();
    },
  });
  await assert.rejects(
    extractLayer(blob, { root: sb.root, layer: 'sha256:c', state: createExtractState(), signal: ac.signal }),
    (err) => isLkvolError(err, 'LKVOL_CANCELLED'),
  );
  await assertSentinelUnchanged(sb);
});

test('two layers of one volume cannot apply at once', async (t) => {
  const sb = await createSandbox(t);
  const state = createExtractState();
  const slow = new PassThrough();
  const first = extractLayer(slow, { root: sb.root, layer: 'sha256:1', state });
  await assert.rejects(extractLayer(Readable.from([]), { root: sb.root, layer: 'sha256:2', state }), (err) =>
    isLkvolError(err, 'LKVOL_INTERNAL'),
  );
  slow.end(await buildTar([{ name: 'a' }]));
  await first;
});

test('totals add up over layers', async (t) => {
  const sb = await createSandbox(t);
  const r = await applyLayers(sb, [
    [{ name: 'a', content: '12345' }],
    [{ name: 'b', content: '123' }, { name: '.wh.a' }],
  ]);
  assert.deepEqual(
    { layers: r.state.layers, entries: r.state.entries, bytes: r.state.bytes },
    { layers: 2, entries: 3, bytes: 8 },
  );
});

test('progress is reported every 256 entries, with the file bytes applied so far', async (t) => {
  const sb = await createSandbox(t);
  const entries = Array.from({ length: 600 }, (_, i) => ({ name: `f${String(i).padStart(3, '0')}`, content: 'ab' }));
  const heard: [number, number][] = [];
  const result = await extractLayer(chunked(await buildTar(entries), 4096), {
    root: sb.root,
    layer: 'sha256:l',
    state: createExtractState(),
    onProgress: (n, bytes) => heard.push([n, bytes]),
  });
  assert.deepEqual(heard, [
    [256, 512],
    [512, 1024],
  ]);
  assert.equal(result.entries, 600);
});
