// Faults of the host surface as host faults (LKVOL_IO, errno, path, hint), never as a corrupt layer.
import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLkvolError } from '../errors.js';
import { chunked, sha256Digest } from '../internal/testing/layer-sandbox.js';
import { buildTar, gzip } from '../internal/testing/tar.js';
import { smallTmpfs } from '../internal/testing/tmpfs.js';
import { execa } from 'execa';
import { createExtractState, extractLayer } from './index.js';

test('a volume whose file system fills up fails with ENOSPC (LKVOL_IO), naming the entry', async (t) => {
  assert.equal(process.getuid?.(), 0, 'mounting a tmpfs needs root');
  const fs = await smallTmpfs(t, 1024 * 1024);
  const root = join(fs, 'lower');
  await mkdir(root);
  const blob = gzip(
    await buildTar([
      { name: 'small', content: 'x' },
      { name: 'big', content: Buffer.alloc(3 * 1024 * 1024, 7) },
      { name: 'after', content: 'y' },
    ]),
  );
  const layer = sha256Digest(blob);
  await assert.rejects(extractLayer(chunked(blob, 64 * 1024), { root, layer, state: createExtractState() }), (err) => {
    assert.ok(isLkvolError(err, 'LKVOL_IO'), String(err));
    assert.match(err.message, new RegExp(`^layer ${layer}: entry "big": ENOSPC`));
    assert.match(err.hint ?? '', /free space/);
    return true;
  });
  assert.deepEqual((await readdir(root)).sort(), ['big', 'small'], 'nothing after the failing entry was written');
});

test('a directory whose metadata the host refuses (read-only file system) is LKVOL_IO naming the entry, not a corrupt layer', async (t) => {
  assert.equal(process.getuid?.(), 0, 'mounting a tmpfs needs root');
  const fs = await smallTmpfs(t, 1024 * 1024);
  const root = join(fs, 'lower');
  await mkdir(root);
  const state = createExtractState();
  const first = gzip(await buildTar([{ name: 'd', type: 'dir', mode: 0o755 }]));
  await extractLayer(chunked(first, 4096), { root, layer: sha256Digest(first), state, applyOwnership: true });
  // NB: smallTmpfs unmounts it after the test, read-only or not.
  await execa('mount', ['-o', 'remount,ro', fs]);
  // Only the directory's metadata changes: nothing is created, so the first write is its chown.
  const second = gzip(await buildTar([{ name: 'd', type: 'dir', mode: 0o700, uid: 5 }]));
  const layer = sha256Digest(second);
  await assert.rejects(extractLayer(chunked(second, 4096), { root, layer, state, applyOwnership: true }), (err) => {
    assert.ok(isLkvolError(err, 'LKVOL_IO'), String(err));
    assert.match(err.message, new RegExp(`^layer ${layer}: entry "(\\.|d/)": set directory metadata: EROFS`));
    return true;
  });
});
