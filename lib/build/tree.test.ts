// Tests of the volume summary: digests from extraction equal digests from reading the files back.
import assert from 'node:assert/strict';
import { appendFile, chmod, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyLayers, createSandbox } from '../internal/testing/layer-sandbox.js';
import type { TarEntry } from '../internal/testing/tar.js';
import { summarizeTree } from './tree.js';
import { isLkvolError } from '../errors.js';

/** Replaced, whited-out, hard-linked (also across layers), empty and larger files, symlinks, odd modes. */
const layers: TarEntry[][] = [
  [
    { name: 'a/one', content: 'one' },
    { name: 'a/two', content: 'x'.repeat(300_000) },
    { name: 'a/empty' },
    { name: 'b/gone', content: 'gone' },
    { name: 'b/link-to-gone', type: 'link', linkname: 'b/gone' },
    { name: 's', type: 'symlink', linkname: 'a/one' },
    { name: 'locked', content: 'secret', mode: 0 },
  ],
  [
    { name: 'a/one', content: 'one, again' },
    { name: 'b/.wh.gone' },
    { name: 'c/link-to-two', type: 'link', linkname: 'a/two' },
    { name: 'c/link-to-replaced', type: 'link', linkname: 'a/one' },
    { name: 'a/two2', content: 'x'.repeat(300_000) },
  ],
];

test('the content digest from extraction equals the one from reading every file back', async (t) => {
  const sb = await createSandbox(t);
  const applied = await applyLayers(sb, layers);
  const fromExtraction = await summarizeTree(sb.root, { contentDigests: applied.report.contentDigests });
  const fromFiles = await summarizeTree(sb.root);
  assert.deepEqual(fromExtraction, fromFiles);
  assert.equal(fromFiles.files, 9);
});

test('the fingerprint moves with mode, mtime and size, not with reading', async (t) => {
  const sb = await createSandbox(t);
  await applyLayers(sb, layers);
  const first = (await summarizeTree(sb.root)).fingerprint;
  assert.equal((await summarizeTree(sb.root)).fingerprint, first, 'walking twice gives the same fingerprint');
  const changes: Array<() => Promise<unknown>> = [
    () => chmod(join(sb.root, 'a/one'), 0o600),
    () => utimes(join(sb.root, 'a/empty'), 5, 5),
    // The size alone: the mtime is put back.
    async () => {
      await appendFile(join(sb.root, 'a/empty'), 'x');
      await utimes(join(sb.root, 'a/empty'), 5, 5);
    },
  ];
  let previous = first;
  for (const change of changes) {
    await change();
    const now = (await summarizeTree(sb.root)).fingerprint;
    assert.notEqual(now, previous);
    previous = now;
  }
});

test('a Ctrl-C while a large tree is read back stops the walk as a cancellation; without one it is read whole', async (t) => {
  const sb = await createSandbox(t);
  // More entries than the walk takes between two turns of the event loop.
  await applyLayers(sb, [Array.from({ length: 4100 }, (_, i) => ({ name: `d${i % 10}/f${i}`, content: `${i}` }))]);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    summarizeTree(sb.root, { signal: controller.signal }),
    (e: unknown) => isLkvolError(e, 'LKVOL_CANCELLED') && e.message.includes(sb.root),
  );
  assert.equal((await summarizeTree(sb.root, { signal: new AbortController().signal })).files, 4100);
});
