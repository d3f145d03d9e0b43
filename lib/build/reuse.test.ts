// Tests of the reuse check's walk on its own: what it does when the build is cancelled while it walks.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLkvolError } from '../errors.js';
import { tempDir } from '../internal/testing/temp.js';
import { volumeIntact, volumeTree } from './reuse.js';

/** An output whose volume `v` holds `files` files (more than the walk takes between two looks at the signal). */
async function outputWith(out: string, files: number): Promise<void> {
  const tree = volumeTree('v');
  await mkdir(join(out, tree.tree), { recursive: true });
  for (const dir of tree.empty) await mkdir(join(out, dir), { recursive: true });
  for (let i = 0; i < files; i++) await writeFile(join(out, tree.tree, `f${i}`), '');
}

test('a reuse check cancelled mid-walk stops as a cancellation naming the tree, not as an abort error', async (t) => {
  const out = await tempDir(t, 'reuse');
  await outputWith(out, 4100);
  const controller = new AbortController();
  controller.abort();
  const check = volumeIntact({
    out,
    ...volumeTree('v'),
    previous: { fingerprint: 'sha256:0' },
    signal: controller.signal,
  });
  await assert.rejects(
    check,
    (e: unknown) => isLkvolError(e, 'LKVOL_CANCELLED') && e.message.includes(join(out, volumeTree('v').tree)),
  );
});

test('an uncancelled check of the same tree walks it whole: a fingerprint that is not its own is not intact', async (t) => {
  const out = await tempDir(t, 'reuse');
  await outputWith(out, 4100);
  assert.equal(await volumeIntact({ out, ...volumeTree('v'), previous: { fingerprint: 'sha256:0' } }), false);
});
