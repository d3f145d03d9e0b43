// Tests of the fingerprint walks: the worker's share and the main thread's give the fingerprint the build recorded,
// whatever the worker does; an edited tree gives another; a cancelled check stops.
import assert from 'node:assert/strict';
import { appendFile, chmod, link, mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { isLkvolError } from '../errors.js';
import type { Sabotage } from '../internal/testing/fingerprint-saboteur.js';
import { tempDir } from '../internal/testing/temp.js';
import { repoRoot } from '../internal/testing/testdata.js';
import { createFingerprintWalks, type FingerprintWalks, type TreeFingerprint } from './fingerprints.js';
import { summarizeTree } from './tree.js';

const tree = 'containers/volumes/v/lower';

/**
 * An output whose tree has 4 levels of directories below 4 top ones (more than a plan lists: its tasks hold
 * directories too), files at every level, empty directories, symlinks and a hardlink.
 */
async function outputWithTree(t: { after(fn: () => Promise<void>): void }): Promise<{ out: string; lower: string }> {
  const out = await tempDir(t, 'fingerprints');
  const lower = join(out, tree);
  for (let a = 0; a < 4; a++) {
    for (let b = 0; b < 6; b++) {
      for (let c = 0; c < 3; c++) {
        for (let d = 0; d < 2; d++) {
          const dir = join(lower, `a${a}`, `b${b}`, `c${c}`, `d${d}`);
          await mkdir(dir, { recursive: true });
          for (let f = 0; f < 2; f++) await writeFile(join(dir, `f${f}`), `${a}${b}${c}${d}${f}`);
        }
        await writeFile(join(lower, `a${a}`, `b${b}`, `c${c}`, 'f'), `${a}${b}${c}`);
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

/**
 * Walks with a saboteur in the worker's place (see fingerprint-saboteur.ts), asked to walk the tree of `out`, once it
 * has taken every task; closed after the test.
 */
async function sabotaged(t: { after(fn: () => void): void }, out: string, mode: Sabotage): Promise<FingerprintWalks> {
  const flag = join(out, `${mode}-has-taken-all`);
  const url = new URL('../internal/testing/fingerprint-saboteur.js', import.meta.url);
  const walks = createFingerprintWalks({ background: true, worker: { url, data: { mode, flag } } });
  t.after(() => walks.close());
  walks.prefetch(out, tree);
  while (!existsSync(flag)) await new Promise((resolve) => setTimeout(resolve, 10));
  return walks;
}

/**
 * The fingerprint with the worker's lines in it: after the prefetch the main thread stops for a while, so the worker,
 * once up, takes tasks first (its start-up time varies: tried again, stopping longer, until it has taken some).
 */
async function withWorkerShare(out: string, worker?: { url: URL }): Promise<TreeFingerprint | undefined> {
  for (let attempt = 1; ; attempt++) {
    const walks = createFingerprintWalks({ background: true, worker });
    walks.prefetch(out, tree);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100 * attempt);
    const result = await walks.fingerprint(out, tree);
    walks.close();
    if (result === undefined || result.fromWorker > 0 || attempt === 10) return result;
  }
}

test('the main thread alone gives the fingerprint the build recorded', async (t) => {
  const { out, lower } = await outputWithTree(t);
  const result = await createFingerprintWalks().fingerprint(out, tree);
  assert.equal(result?.fingerprint, (await summarizeTree(lower)).fingerprint);
  assert.equal(result?.fromWorker, 0);
});

test("with the worker's lines, the fingerprint is the one the build recorded", async (t) => {
  const { out, lower } = await outputWithTree(t);
  const result = await withWorkerShare(out);
  assert.equal(result?.fingerprint, (await summarizeTree(lower)).fingerprint);
  assert.ok(result !== undefined && result.tasks > 1 && result.fromWorker > 0, JSON.stringify(result));
});

test("the command's worker (CommonJS, beside the bundle) walks its share: the fingerprint the build recorded", async (t) => {
  const bundled = join(repoRoot(), 'dist', 'bundle', 'fingerprint-worker.js');
  // Loaded as CommonJS (dist/bundle/package.json), not as an ES module: require() reaches its own check.
  assert.throws(() => createRequire(import.meta.url)(bundled), /must run in a worker thread/);
  const { out, lower } = await outputWithTree(t);
  const result = await withWorkerShare(out, { url: pathToFileURL(bundled) });
  assert.equal(result?.fingerprint, (await summarizeTree(lower)).fingerprint);
  assert.ok(result !== undefined && result.fromWorker > 0, JSON.stringify(result));
});

test('a worker that cannot start leaves the walk to the main thread', async (t) => {
  const { out, lower } = await outputWithTree(t);
  const walks = createFingerprintWalks({ background: true, worker: { url: new URL('file:///nonexistent.js') } });
  walks.prefetch(out, tree);
  assert.equal((await walks.fingerprint(out, tree))?.fingerprint, (await summarizeTree(lower)).fingerprint);
  walks.close();
});

const sabotages: Array<{ name: string; mode: Sabotage }> = [
  { name: 'posts its tasks under other directories', mode: 'other-dir' },
  { name: 'posts its tasks as walked from another root', mode: 'other-root' },
  { name: 'fails every task', mode: 'fail' },
  { name: 'reports none of its tasks and says it is done', mode: 'skip' },
  { name: 'takes every task and exits', mode: 'die' },
];

for (const c of sabotages) {
  test(`a worker that ${c.name}: the main thread walks its tasks, and the fingerprint is the recorded one`, async (t) => {
    const { out, lower } = await outputWithTree(t);
    const result = await (await sabotaged(t, out, c.mode)).fingerprint(out, tree);
    assert.equal(result?.fingerprint, (await summarizeTree(lower)).fingerprint);
    assert.equal(result?.fromWorker, 0);
  });
}

const edits: Array<{ name: string; edit: (lower: string) => Promise<void> }> = [
  { name: 'a file deep in a task appended to', edit: (l) => appendFile(join(l, 'a2/b3/c1/d0/f1'), '!') },
  { name: 'a file in the plan appended to', edit: (l) => appendFile(join(l, 'top'), '!') },
  { name: 'a mode changed', edit: (l) => chmod(join(l, 'a3/b5/c2/d1/f0'), 0o600) },
  { name: 'a file added', edit: (l) => writeFile(join(l, 'a1/b1/empty/new'), '') },
  { name: 'a file removed', edit: (l) => rm(join(l, 'a0/b2/c0/f')) },
  { name: 'a directory dated otherwise', edit: (l) => utimes(join(l, 'a1/b4/c2/d0'), 5, 5) },
  { name: 'a hardlink broken', edit: (l) => rm(join(l, 'a0/top-again')) },
];

for (const c of edits) {
  test(`${c.name}: another fingerprint, with the worker's lines or without`, async (t) => {
    const { out, lower } = await outputWithTree(t);
    const recorded = (await summarizeTree(lower)).fingerprint;
    await c.edit(lower);
    const now = (await summarizeTree(lower)).fingerprint;
    assert.notEqual(now, recorded);
    assert.equal((await createFingerprintWalks().fingerprint(out, tree))?.fingerprint, now);
    const shared = await withWorkerShare(out);
    assert.equal(shared?.fingerprint, now);
    assert.ok((shared?.fromWorker ?? 0) > 0, 'the worker walked no task');
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
  const walks = await sabotaged(t, out, 'hang');
  const controller = new AbortController();
  const check = walks.fingerprint(out, tree, controller.signal);
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(
    check,
    (e: unknown) => isLkvolError(e, 'LKVOL_CANCELLED') && e.message.includes(join(out, tree)),
  );
});

test('asked with a signal already aborted while the worker holds every task: a cancellation at once', async (t) => {
  const { out } = await outputWithTree(t);
  const walks = await sabotaged(t, out, 'hang');
  await assert.rejects(walks.fingerprint(out, tree, AbortSignal.abort()), (e: unknown) =>
    isLkvolError(e, 'LKVOL_CANCELLED'),
  );
});

test('cancelled while the main thread walks many small tasks: their entries count together', async (t) => {
  const out = await tempDir(t, 'fingerprints');
  // 64 directories of 40 files: fewer than the 2,000 entries between two looks at the signal in each, more in all.
  for (let d = 0; d < 64; d++) {
    await mkdir(join(out, tree, `d${d}`), { recursive: true });
    for (let f = 0; f < 40; f++) await writeFile(join(out, tree, `d${d}`, `f${f}`), '');
  }
  await assert.rejects(createFingerprintWalks().fingerprint(out, tree, AbortSignal.abort()), (e: unknown) =>
    isLkvolError(e, 'LKVOL_CANCELLED'),
  );
  assert.notEqual(await createFingerprintWalks().fingerprint(out, tree), undefined);
});

test('a worker closed while the main thread waits for it: the main thread walks the rest', async (t) => {
  const { out, lower } = await outputWithTree(t);
  const walks = await sabotaged(t, out, 'hang');
  const check = walks.fingerprint(out, tree);
  setTimeout(() => walks.close(), 50);
  assert.equal((await check)?.fingerprint, (await summarizeTree(lower)).fingerprint);
});

/** Trees whose plans end in every way a plan can (see `planWalk`), each directory holding a file. */
const shapes: Array<{ name: string; dirs: string[] }> = [
  { name: 'no directory at all', dirs: [] },
  { name: '40 top directories (tasks after the first level)', dirs: range(40).map((i) => `t${i}`) },
  { name: 'a chain of 6 directories (one in the last level listed)', dirs: ['a/b/c/d/e/f'] },
  {
    name: '2 × 2 × 2 directories over 3 more levels (fewer than 32 below the levels listed)',
    dirs: range(8).map((i) => `x${i >> 2}/y${(i >> 1) & 1}/z${i & 1}/deep/er/est`),
  },
];

for (const c of shapes) {
  test(`a plan that ends with ${c.name}: the fingerprint the build recorded, with the worker's lines or without`, async (t) => {
    const out = await tempDir(t, 'fingerprints');
    const lower = join(out, tree);
    await mkdir(lower, { recursive: true });
    await writeFile(join(lower, 'file'), 'top');
    for (const dir of c.dirs) {
      await mkdir(join(lower, dir), { recursive: true });
      await writeFile(join(lower, dir, 'file'), dir);
    }
    const recorded = (await summarizeTree(lower)).fingerprint;
    assert.equal((await createFingerprintWalks().fingerprint(out, tree))?.fingerprint, recorded);
    const walks = createFingerprintWalks({ background: true });
    t.after(() => walks.close());
    walks.prefetch(out, tree);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    assert.equal((await walks.fingerprint(out, tree))?.fingerprint, recorded);
  });
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
