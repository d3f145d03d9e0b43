// Tests of the fingerprint walks: the worker's share and the main thread's give the fingerprint the build recorded,
// whatever the worker does; an edited tree gives another.
import assert from 'node:assert/strict';
import { appendFile, chmod, link, mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLkvolError } from '../errors.js';
import { tempDir } from '../internal/testing/temp.js';
import { createFingerprintWalks, type WalksOptions } from './fingerprints.js';
import { summarizeTree } from './tree.js';

const tree = 'containers/volumes/v/lower';

/**
 * An output whose tree has 3 levels of directories below 4 top ones (more than a plan lists: tasks at two depths),
 * files at every level, empty directories, symlinks and a hardlink.
 */
async function outputWithTree(t: { after(fn: () => Promise<void>): void }): Promise<{ out: string; lower: string }> {
  const out = await tempDir(t, 'fingerprints');
  const lower = join(out, tree);
  for (let a = 0; a < 4; a++) {
    for (let b = 0; b < 6; b++) {
      for (let c = 0; c < 3; c++) {
        const dir = join(lower, `a${a}`, `b${b}`, `c${c}`);
        await mkdir(dir, { recursive: true });
        for (let f = 0; f < 4; f++) await writeFile(join(dir, `f${f}`), `${a}${b}${c}${f}`);
      }
      await writeFile(join(lower, `a${a}`, `b${b}`, 'file'), 'x'.repeat(a * b));
      await mkdir(join(lower, `a${a}`, `b${b}`, 'empty'));
    }
    await symlink(`a${a}/b0`, join(lower, `link${a}`));
  }
  await writeFile(join(lower, 'top'), 'top');
  await link(join(lower, 'top'), join(lower, 'a0', 'top-again'));
  return { out, lower };
}

type Sabotage = 'lie' | 'fail' | 'die' | 'hang';

/** A saboteur in the worker's place (see fingerprint-saboteur.ts), and a wait until it has taken every task. */
function saboteur(dir: string, mode: Sabotage): { options: WalksOptions; taken: () => Promise<void> } {
  const flag = join(dir, `${mode}-has-taken-all`);
  const url = new URL('../internal/testing/fingerprint-saboteur.js', import.meta.url);
  const taken = async () => {
    while (!existsSync(flag)) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  return { options: { background: true, worker: { url, data: { mode, flag } } }, taken };
}

async function fingerprintWith(
  o: WalksOptions,
  out: string,
  before: () => Promise<void> = async () => undefined,
): Promise<string | undefined> {
  const walks = createFingerprintWalks(o);
  try {
    walks.prefetch(out, tree);
    await before();
    return (await walks.fingerprint(out, tree))?.fingerprint;
  } finally {
    walks.close();
  }
}

const helpers: Array<{ name: string; options: WalksOptions }> = [
  { name: 'the main thread alone', options: {} },
  { name: 'the worker too', options: { background: true } },
  {
    name: 'a worker that cannot start',
    options: { background: true, worker: { url: new URL('file:///nonexistent.js') } },
  },
];

for (const h of helpers) {
  test(`with ${h.name}, the fingerprint is the one the build recorded`, async (t) => {
    const { out, lower } = await outputWithTree(t);
    const recorded = (await summarizeTree(lower)).fingerprint;
    assert.equal(await fingerprintWith(h.options, out), recorded);
  });
}

const sabotages: Array<{ name: string; mode: Sabotage }> = [
  { name: 'names other directories', mode: 'lie' },
  { name: 'fails every task', mode: 'fail' },
  { name: 'takes every task and exits', mode: 'die' },
];

for (const c of sabotages) {
  test(`a worker that ${c.name}: the main thread walks its tasks, and the fingerprint is the recorded one`, async (t) => {
    const { out, lower } = await outputWithTree(t);
    const recorded = (await summarizeTree(lower)).fingerprint;
    const { options, taken } = saboteur(out, c.mode);
    assert.equal(await fingerprintWith(options, out, taken), recorded);
  });
}

test('the worker walks part of the tree: its tasks are taken from the same claims', async (t) => {
  const { out, lower } = await outputWithTree(t);
  const recorded = (await summarizeTree(lower)).fingerprint;
  // The main thread stops for a while, so the worker, once up, takes tasks first; its start-up time varies.
  let fromWorker = 0;
  for (let attempt = 1; attempt <= 10 && fromWorker === 0; attempt++) {
    const walks = createFingerprintWalks({ background: true });
    walks.prefetch(out, tree);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100 * attempt);
    const result = await walks.fingerprint(out, tree);
    walks.close();
    assert.equal(result?.fingerprint, recorded);
    fromWorker = result?.fromWorker ?? 0;
  }
  assert.ok(fromWorker > 0, 'the worker walked no task');
});

const edits: Array<{ name: string; edit: (lower: string) => Promise<void> }> = [
  { name: 'a file deep in a task appended to', edit: (l) => appendFile(join(l, 'a2/b3/c1/f2'), '!') },
  { name: 'a file in the plan appended to', edit: (l) => appendFile(join(l, 'top'), '!') },
  { name: 'a mode changed', edit: (l) => chmod(join(l, 'a3/b5/c2/f0'), 0o600) },
  { name: 'a file added', edit: (l) => writeFile(join(l, 'a1/b1/empty/new'), '') },
  { name: 'a file removed', edit: (l) => rm(join(l, 'a0/b2/c0/f3')) },
  { name: 'a directory dated otherwise', edit: (l) => utimes(join(l, 'a1/b4/c2'), 5, 5) },
  { name: 'a hardlink broken', edit: (l) => rm(join(l, 'a0/top-again')) },
];

for (const c of edits) {
  test(`${c.name}: another fingerprint, with the worker or without`, async (t) => {
    const { out, lower } = await outputWithTree(t);
    const recorded = (await summarizeTree(lower)).fingerprint;
    await c.edit(lower);
    const now = (await summarizeTree(lower)).fingerprint;
    assert.notEqual(now, recorded);
    assert.equal(await fingerprintWith({}, out), now);
    assert.equal(await fingerprintWith({ background: true }, out), now);
  });
}

test('a tree that is not there, or is reached through a symlink, has no fingerprint', async (t) => {
  const { out, lower } = await outputWithTree(t);
  await symlink(lower, join(out, 'containers/volumes/v/elsewhere'));
  const walks = createFingerprintWalks({ background: true });
  t.after(() => walks.close());
  assert.equal(await walks.fingerprint(out, 'containers/volumes/v/elsewhere'), undefined);
  assert.equal(await walks.fingerprint(out, 'containers/volumes/missing/lower'), undefined);
  await rm(join(out, 'containers/volumes/v'), { recursive: true });
  await mkdir(join(out, 'real'));
  await symlink(join(out, 'real'), join(out, 'containers/volumes/v'));
  assert.equal(await walks.fingerprint(out, tree), undefined);
});

test('one walk per tree and build: asked twice, the same answer without walking again', async (t) => {
  const { out, lower } = await outputWithTree(t);
  const walks = createFingerprintWalks();
  t.after(() => walks.close());
  const first = await walks.fingerprint(out, tree);
  await appendFile(join(lower, 'top'), '!');
  assert.deepEqual(await walks.fingerprint(out, tree), first);
  assert.notDeepEqual(await createFingerprintWalks().fingerprint(out, tree), first);
});

test('cancelled while it waits for the worker: a cancellation naming the tree', async (t) => {
  const { out } = await outputWithTree(t);
  const { options, taken } = saboteur(out, 'hang');
  const walks = createFingerprintWalks(options);
  t.after(() => walks.close());
  walks.prefetch(out, tree);
  await taken();
  const controller = new AbortController();
  const check = walks.fingerprint(out, tree, controller.signal);
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(
    check,
    (e: unknown) => isLkvolError(e, 'LKVOL_CANCELLED') && e.message.includes(join(out, tree)),
  );
});

test('a worker closed while the main thread waits for it: the main thread walks the rest', async (t) => {
  const { out, lower } = await outputWithTree(t);
  const { options, taken } = saboteur(out, 'hang');
  const walks = createFingerprintWalks(options);
  walks.prefetch(out, tree);
  await taken();
  const check = walks.fingerprint(out, tree);
  setTimeout(() => walks.close(), 50);
  assert.equal((await check)?.fingerprint, (await summarizeTree(lower)).fingerprint);
});
