// One round of a bench scenario: on one image, the reference and lkvol alternate (who goes first changes every round),
// then lkvol rebuilds with nothing changed, the floor of such a rebuild runs (floor.ts) and the raw pipe runs; on the
// two-volume system, it is built cold and rebuilt with one volume's image swapped. Every lkvol output is checked after
// its timing.
import { mkdir, rename, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { assertSameTree, readReferenceTree, type ReferenceTree } from './compare.js';
import type { CacheDropper } from './drop-caches.js';
import { runFloor } from './floor.js';
import type { BenchImage, BenchImages } from './images.js';
import { lowerOf, runLkvol } from './lkvol.js';
import { log } from './log.js';
import { runPipe } from './pipe.js';
import { runReference } from './reference.js';
import { writeSystemFile } from './system-files.js';
import type { TimedRun } from './timed.js';

/** What every scenario needs: where to work, how to drop caches, the images and umoci's trees of them. */
export interface BenchContext {
  work: string;
  dropper: CacheDropper;
  images: BenchImages;
  /** umoci's tree of each image by name, read from its first reference run. */
  trees: Map<string, ReferenceTree>;
  /** Finished runs' directories set aside in `work/removed/` so far (`discard`). */
  setAside: number;
  /** Set once the file system has too little room to keep finished runs' trees until the end (`discard`). */
  removingNow: boolean;
}

/** The runs of one image. */
export interface ImageSamples {
  reference: TimedRun[];
  cold: TimedRun[];
  /** Same cache and OUT, caches dropped first (a rebuild after a while). */
  noChange: TimedRun[];
  /** The same again with caches warm (`make` run twice), after a `sync`. */
  noChangeWarm: TimedRun[];
  /** `curl | gzip -d | tar -x` of the layers, caches dropped (pipe.ts). */
  pipe: TimedRun[];
  /** The least a Node program does to find the volume unchanged (floor.ts): caches dropped, and warm. */
  floor: TimedRun[];
  floorWarm: TimedRun[];
}

/** The runs of the two-volume system. */
export interface TwoVolumeSamples {
  cold: TimedRun[];
  changed: TimedRun[];
}

/** Runs the reference once, untimed, to read umoci's tree of an image no round times (tiny). */
export async function readTreeOnce(ctx: BenchContext, image: BenchImage): Promise<void> {
  const dir = await freshDir(ctx, `reference-${image.name}`);
  const ref = await runReference({ ref: image.ref, dir });
  ctx.trees.set(image.name, await readReferenceTree(ref.rootfs, ref.unpackStart));
  await rm(dir, { recursive: true, force: true });
}

/** One round on one image: reference and lkvol cold in alternating order, then the no-change rebuilds. */
export async function runImageRound(
  ctx: BenchContext,
  image: BenchImage,
  at: { round: number; samples: ImageSamples },
): Promise<void> {
  const { round, samples } = at;
  const label = `round ${round} ${image.name}`;
  // Round 1 runs the reference first, so its tree is there to check lkvol against.
  const referenceFirst = round % 2 === 1;
  if (referenceFirst) await timeReference(ctx, image, label, samples);
  const dir = await freshDir(ctx, `${image.name}-${round}`);
  const system = await writeSystemFile(dir, 'system.yml', [{ name: image.name, ref: image.ref }]);
  const o = { system, out: join(dir, 'out'), cache: join(dir, 'cache'), cwd: dir };
  const check = (what: string): Promise<void> =>
    assertSameTree(treeOf(ctx, image.name), lowerOf(o.out, image.name), `${label} ${what}`);
  await ctx.dropper.drop();
  samples.cold.push(await timed(`${label}: lkvol cold`, runLkvol(`${label} lkvol cold`, o)));
  await check('lkvol cold');
  await ctx.dropper.drop();
  samples.noChange.push(await timed(`${label}: lkvol no-change rebuild`, runLkvol(`${label} lkvol no-change`, o)));
  await check('lkvol no-change rebuild');
  await ctx.dropper.sync();
  samples.noChangeWarm.push(
    await timed(`${label}: lkvol no-change rebuild, warm`, runLkvol(`${label} lkvol no-change warm`, o)),
  );
  await check('lkvol no-change rebuild (warm)');
  // After lkvol's rebuilds, so that its warm one follows its own run (its bundle in the page cache), as `make` twice.
  const floor = { ref: image.ref, tree: lowerOf(o.out, image.name), entries: treeOf(ctx, image.name).lines.length };
  await ctx.dropper.drop();
  samples.floor.push(
    await timed(`${label}: no-change floor`, runFloor({ ...floor, what: `${label} floor`, cwd: dir })),
  );
  await ctx.dropper.sync();
  samples.floorWarm.push(
    await timed(`${label}: no-change floor, warm`, runFloor({ ...floor, what: `${label} floor, warm`, cwd: dir })),
  );
  await discard(ctx, dir);
  const pipeDir = await freshDir(ctx, `pipe-${image.name}`);
  await ctx.dropper.drop();
  samples.pipe.push(await timed(`${label}: curl | gzip -d | tar -x`, runPipe({ blobs: image.blobs, dir: pipeDir })));
  await discard(ctx, pipeDir);
  if (!referenceFirst) await timeReference(ctx, image, label, samples);
}

/** One round on the two-volume system: big + debian cold, then big + tiny (one volume changed). */
export async function runTwoVolumeRound(ctx: BenchContext, round: number, samples: TwoVolumeSamples): Promise<void> {
  const label = `round ${round} two volumes`;
  const { synthetic, debian, tiny } = ctx.images;
  const dir = await freshDir(ctx, `two-${round}`);
  const before = await writeSystemFile(dir, 'system.yml', [
    { name: 'big', ref: synthetic.ref },
    { name: 'base', ref: debian.ref },
  ]);
  const after = await writeSystemFile(dir, 'system-changed.yml', [
    { name: 'big', ref: synthetic.ref },
    { name: 'base', ref: tiny.ref },
  ]);
  const o = { out: join(dir, 'out'), cache: join(dir, 'cache'), cwd: dir };
  const check = async (what: string, base: BenchImage): Promise<void> => {
    await assertSameTree(treeOf(ctx, synthetic.name), lowerOf(o.out, 'big'), `${label} ${what}, volume big`);
    await assertSameTree(treeOf(ctx, base.name), lowerOf(o.out, 'base'), `${label} ${what}, volume base`);
  };
  await ctx.dropper.drop();
  samples.cold.push(
    await timed(`${label}: lkvol cold, both volumes`, runLkvol(`${label} lkvol cold`, { ...o, system: before })),
  );
  await check('lkvol cold', debian);
  await ctx.dropper.drop();
  samples.changed.push(
    await timed(
      `${label}: lkvol rebuild, base swapped for tiny`,
      runLkvol(`${label} lkvol one volume changed`, { ...o, system: after }),
    ),
  );
  await check('lkvol one volume changed', tiny);
  await discard(ctx, dir);
}

async function timeReference(
  ctx: BenchContext,
  image: BenchImage,
  label: string,
  samples: ImageSamples,
): Promise<void> {
  const dir = await freshDir(ctx, `reference-${image.name}`);
  await ctx.dropper.drop();
  const ref = await runReference({ ref: image.ref, dir });
  samples.reference.push(ref.run);
  log(`${label}: skopeo copy + umoci unpack ${ref.run.seconds.toFixed(2)} s`);
  if (!ctx.trees.has(image.name)) ctx.trees.set(image.name, await readReferenceTree(ref.rootfs, ref.unpackStart));
  await discard(ctx, dir);
}

async function timed(what: string, running: Promise<TimedRun>): Promise<TimedRun> {
  const run = await running;
  log(`${what} ${run.seconds.toFixed(2)} s, peak RSS ${(run.peakRssKb / 1024).toFixed(0)} MB`);
  return run;
}

/** umoci's tree of the image `name`; throws when it has not been read yet. */
export function treeOf(ctx: BenchContext, name: string): ReferenceTree {
  const t = ctx.trees.get(name);
  if (t === undefined) throw new Error(`bench: umoci's tree of ${name} was not read before lkvol's output was checked`);
  return t;
}

/** An empty directory `work/<name>` (what a killed earlier round left there is removed). */
async function freshDir(ctx: BenchContext, name: string): Promise<string> {
  const dir = join(ctx.work, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Free bytes needed to keep one more round's directories until the end: each tool's blobs and trees of both images and
 * the two-volume system come to about 3.6 GB.
 */
const roundFootprint = 6 * 1024 ** 3;

/**
 * Done with `dir`: set aside in `work/removed/` until the bench ends, while the file system has room for another
 * round. On ext4 without a journal the inode allocator passes over every inode freed in the last minute or more,
 * reading its inode table block to see when (`recently_deleted` in the kernel): a tool that creates a tree right after
 * one of 22,000 entries was removed pays for it in its own system calls, whichever tool it is (2026-12-05, 3 rounds:
 * the synthetic image 7.96 → 7.66 s for the reference and 4.37 → 3.92 s for lkvol once nothing was removed between
 * runs). A build on a CI machine does not follow such a removal.
 */
async function discard(ctx: BenchContext, dir: string): Promise<void> {
  const fs = await statfs(ctx.work);
  if (fs.bavail * fs.bsize < roundFootprint) {
    if (!ctx.removingNow) log(`NOTE: less than ${roundFootprint / 1024 ** 3} GiB free: trees are removed between runs`);
    ctx.removingNow = true;
    await rm(dir, { recursive: true, force: true });
    return;
  }
  await mkdir(join(ctx.work, 'removed'), { recursive: true });
  await rename(dir, join(ctx.work, 'removed', `${ctx.setAside++}`));
}
