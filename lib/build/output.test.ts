// Tests of the atomic output swap: recovery of killed builds' leftovers, and promotes racing for one OUT.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { AdoptionLost, createStaging, discardAfterFailure, recoverOutput } from './output.js';
import type { LkvolError } from '../errors.js';
import { tempDir } from '../internal/testing/temp.js';

const dead = spawnSync(process.execPath, ['-e', '']).pid;
const alive = process.ppid;

const cases = [
  {
    name: "a dead build's staging dir is removed",
    entries: [`.out.partial-${dead}-aa`],
    out: 'cur',
    want: ['out'],
    wantOut: 'cur',
  },
  {
    name: "a live build's staging dir and moved-aside OUT stay",
    entries: [`.out.partial-${alive}-aa`, `.out.old-${alive}-bb`],
    out: 'cur',
    want: [`.out.old-${alive}-bb`, `.out.partial-${alive}-aa`, 'out'],
    wantOut: 'cur',
  },
  {
    name: 'killed between the renames: the moved-aside OUT comes back',
    entries: [`.out.old-${dead}-aa`, `.out.partial-${dead}-bb`],
    out: undefined,
    want: ['out'],
    wantOut: `.out.old-${dead}-aa`,
  },
  {
    name: 'killed after the swap: the moved-aside OUT is removed',
    entries: [`.out.old-${dead}-aa`],
    out: 'cur',
    want: ['out'],
    wantOut: 'cur',
  },
  // NB: in a container a killed build's pid is often ours again; only this process's own builds are alive.
  {
    name: 'our own pid, not one of our builds, counts as dead',
    entries: [`.out.partial-${process.pid}-aa`],
    out: 'cur',
    want: ['out'],
    wantOut: 'cur',
  },
  {
    name: 'names of other outputs or other forms are not ours',
    entries: ['.out.partial-x', `.other.partial-${dead}-aa`, `.out.partial-${dead}-zz`],
    out: 'cur',
    want: ['.other.partial-' + dead + '-aa', '.out.partial-' + dead + '-zz', '.out.partial-x', 'out'],
    wantOut: 'cur',
  },
];

for (const c of cases) {
  test(`recoverOutput: ${c.name}`, async (t) => {
    const dir = await tempDir(t, 'output');
    for (const name of c.entries) await mkdir(join(dir, name)).then(() => writeFile(join(dir, name, 'id'), name));
    if (c.out !== undefined) await mkdir(join(dir, 'out')).then(() => writeFile(join(dir, 'out', 'id'), c.out));
    await recoverOutput(join(dir, 'out'));
    assert.deepEqual((await readdir(dir)).sort(), [...c.want].sort());
    assert.equal(await readFile(join(dir, 'out', 'id'), 'utf8'), c.wantOut);
  });
}

test('three promotes racing for one OUT all succeed, and OUT ends up as one of their trees', async (t) => {
  const dir = await tempDir(t, 'output');
  const out = join(dir, 'out');
  for (let round = 0; round < 5; round++) {
    const stagings = await Promise.all([0, 1, 2].map(() => createStaging(out)));
    for (const [i, s] of stagings.entries())
      for (const name of ['a', 'b']) await writeFile(join(s.dir, name), String(i));
    // Started in one tick, their renames interleave on libuv's thread pool.
    await Promise.all(stagings.map((s) => s.promote()));
    assert.equal(
      await readFile(join(out, 'a'), 'utf8'),
      await readFile(join(out, 'b'), 'utf8'),
      `round ${round}: OUT mixes two trees`,
    );
    assert.deepEqual(await readdir(dir), ['out'], `round ${round}`);
  }
});

test('a staging dir is private (0700) until promoted (0755), and discard never touches OUT', async (t) => {
  const dir = await tempDir(t, 'output');
  const out = join(dir, 'out');
  const first = await createStaging(out);
  assert.equal((await stat(first.dir)).mode & 0o777, 0o700);
  await first.promote();
  assert.equal((await stat(out)).mode & 0o777, 0o755);
  const second = await createStaging(out);
  await second.discard();
  assert.deepEqual(await readdir(dir), ['out']);
});

test('a staging dir that cannot be removed after a failure is reported as a leftover, and discarding does not throw', async (t) => {
  const dir = await tempDir(t, 'output');
  const staging = await createStaging(join(dir, 'parent', 'out'));
  // A real removal failure even as root: the staging dir's parent is now a file, so rm meets ENOTDIR.
  await rename(join(dir, 'parent'), join(dir, 'moved'));
  await writeFile(join(dir, 'parent'), 'a file\n');
  await assert.rejects(staging.discard(), { code: 'ENOTDIR' });
  const leftovers: LkvolError[] = [];
  await discardAfterFailure(staging, (e) => leftovers.push(e));
  assert.deepEqual(
    leftovers.map((e) => e.code),
    ['LKVOL_IO'],
  );
  assert.ok(
    leftovers[0]!.message.startsWith(`remove staging directory ${staging.dir}: ENOTDIR`),
    leftovers[0]!.message,
  );
});

test('discarding after a failure removes the staging dir and reports nothing when it can', async (t) => {
  const dir = await tempDir(t, 'output');
  const staging = await createStaging(join(dir, 'out'));
  await writeFile(join(staging.dir, 'half'), 'built');
  const leftovers: LkvolError[] = [];
  await discardAfterFailure(staging, (e) => leftovers.push(e));
  assert.deepEqual([leftovers, await readdir(dir)], [[], []]);
});

/** OUT with a volume tree `containers/volumes/v/lower` holding `file`; a staging dir with its empty place. */
async function adoptionSetup(t: TestContext, content: string) {
  const dir = await tempDir(t, 'output');
  const out = join(dir, 'out');
  const rel = 'containers/volumes/v/lower';
  await mkdir(join(out, rel), { recursive: true });
  await writeFile(join(out, rel, 'file'), content);
  await writeFile(join(out, 'id'), 'old');
  const staging = await createStaging(out);
  await mkdir(join(staging.dir, rel), { recursive: true });
  await writeFile(join(staging.dir, 'id'), 'new');
  const st = await stat(join(out, rel));
  return { dir, out, rel, staging, tree: { rel, dev: st.dev, ino: st.ino } };
}

test('promote adopts a tree of the previous OUT: the same directory, moved; nothing is left beside OUT', async (t) => {
  const { dir, out, rel, staging, tree } = await adoptionSetup(t, 'kept');
  await staging.promote([tree]);
  assert.equal(await readFile(join(out, 'id'), 'utf8'), 'new');
  assert.equal(await readFile(join(out, rel, 'file'), 'utf8'), 'kept');
  assert.equal((await stat(join(out, rel))).ino, tree.ino);
  assert.deepEqual(await readdir(dir), ['out']);
});

test('a tree replaced since it was checked is not adopted: AdoptionLost, OUT and staging as they were, no journal', async (t) => {
  const { dir, out, rel, staging, tree } = await adoptionSetup(t, 'checked');
  // A concurrent build put another tree there (another inode).
  await rename(join(out, rel), join(dir, 'elsewhere'));
  await mkdir(join(out, rel));
  await writeFile(join(out, rel, 'file'), 'other');
  await assert.rejects(staging.promote([tree]), AdoptionLost);
  assert.equal(await readFile(join(out, 'id'), 'utf8'), 'old');
  assert.equal(await readFile(join(out, rel, 'file'), 'utf8'), 'other');
  assert.deepEqual(await readdir(join(staging.dir, rel)), []);
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.includes('.adopt-')),
    [],
  );
  // The build then fills the place itself and promotes as usual.
  await writeFile(join(staging.dir, rel, 'file'), 'extracted');
  await staging.promote();
  assert.equal(await readFile(join(out, rel, 'file'), 'utf8'), 'extracted');
});

test('a second tree missing makes the first go back to OUT before AdoptionLost', async (t) => {
  const { out, rel, staging, tree } = await adoptionSetup(t, 'first');
  const missing = { ...tree, rel: 'containers/volumes/w/lower' };
  await mkdir(join(staging.dir, missing.rel), { recursive: true });
  await assert.rejects(staging.promote([tree, missing]), AdoptionLost);
  assert.equal(await readFile(join(out, rel, 'file'), 'utf8'), 'first');
  assert.equal((await stat(join(out, rel))).ino, tree.ino);
  assert.deepEqual(await readdir(join(staging.dir, rel)), []);
});

/** The state a build of pid `dead` leaves when killed after adopting `rel` into its staging dir. */
async function killedAfterAdopting(dir: string, rel: string, o: { swapped: boolean }) {
  const out = join(dir, 'out');
  const staging = join(dir, `.out.partial-${dead}-0000bbbb`);
  await mkdir(join(staging, rel), { recursive: true });
  await writeFile(join(staging, 'id'), 'new');
  await writeFile(
    join(dir, `.out.adopt-${dead}-0000cccc`),
    JSON.stringify({ staging: basename(staging), trees: [rel] }),
  );
  await rename(join(out, rel), join(staging, rel));
  // Killed between the two renames of the swap: OUT is aside, lacking the tree.
  if (o.swapped) await rename(out, join(dir, `.out.old-${dead}-0000aaaa`));
}

for (const swapped of [false, true]) {
  test(`recoverOutput: killed after adopting${swapped ? ' and moving OUT aside' : ''}, the tree goes back to the old OUT`, async (t) => {
    const { dir, out, rel, staging, tree } = await adoptionSetup(t, 'adopted');
    await staging.discard();
    await killedAfterAdopting(dir, rel, { swapped });
    await recoverOutput(out);
    assert.deepEqual(await readdir(dir), ['out']);
    assert.equal(await readFile(join(out, 'id'), 'utf8'), 'old');
    assert.equal(await readFile(join(out, rel, 'file'), 'utf8'), 'adopted');
    assert.equal((await stat(join(out, rel))).ino, tree.ino);
  });
}

test('recoverOutput: a journal naming anything but a staging dir of this OUT, or paths out of it, moves nothing', async (t) => {
  const dir = await tempDir(t, 'output');
  const out = join(dir, 'out');
  await mkdir(join(dir, 'elsewhere', 'x'), { recursive: true });
  await mkdir(out);
  for (const [i, entry] of [
    { staging: 'elsewhere', trees: ['x'] },
    { staging: `.out.partial-${dead}-0000bbbb`, trees: ['../elsewhere/x'] },
    'not json',
  ].entries())
    await writeFile(join(dir, `.out.adopt-${dead}-000${i}`), typeof entry === 'string' ? entry : JSON.stringify(entry));
  await mkdir(join(dir, `.out.partial-${dead}-0000bbbb`));
  await recoverOutput(out);
  assert.deepEqual((await readdir(dir)).sort(), ['elsewhere', 'out']);
  assert.deepEqual(await readdir(out), []);
  assert.deepEqual(await readdir(join(dir, 'elsewhere')), ['x']);
});
