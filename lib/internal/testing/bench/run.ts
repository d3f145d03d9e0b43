// `make bench`: lkvol against `skopeo copy` + `umoci unpack` on a Debian minbase image and a 500 MB
// synthetic one, served by a registry on 127.0.0.1; prints medians and ratios, writes them as JSON.
// A tree that differs from umoci's fails the bench (exit 1): a timing of a wrong build is no result.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startRegistry } from '../registry.js';
import { repoRoot } from '../testdata.js';
import { TreeMismatchError } from './compare.js';
import { createCacheDropper } from './drop-caches.js';
import { prepareImages } from './images.js';
import { elapsedSeconds, log } from './log.js';
import { readOptions, usage, type BenchOptions } from './options.js';
import { formatReport, summarizeImage, summarizeTwoVolumes, type BenchResults } from './report.js';
import {
  readTreeOnce,
  runImageRound,
  runTwoVolumeRound,
  treeOf,
  type BenchContext,
  type ImageSamples,
  type TwoVolumeSamples,
} from './scenarios.js';

async function main(): Promise<void> {
  const opts = readOptions(process.argv.slice(2), process.env);
  if (opts === 'help') return void console.log(usage);
  const dropper = await createCacheDropper();
  if (!dropper.enabled) log(`NOTE: page caches will NOT be dropped before cold runs: ${dropper.reason}`);
  if (opts.runs < 3) log(`NOTE: ${opts.runs} round(s); the issue asks for the median of at least 3`);
  // Read before anything runs: the commit whose dist/ is measured, even if files change meanwhile.
  const commit = await gitCommit();
  const work = await createWorkDir(opts.cacheDir);
  // The registry's storage lives in the work directory, so a killed bench leaves nothing elsewhere.
  const registry = await startRegistry({ storageDir: join(work, 'registry') });
  let failed = true;
  try {
    log(`registry ${registry.url}; work directory ${work}`);
    const images = await prepareImages({ registry: registry.host, cacheDir: opts.cacheDir, mirror: opts.mirror });
    const ctx: BenchContext = { work, dropper, images, trees: new Map(), setAside: 0, removingNow: false };
    await readTreeOnce(ctx, images.tiny);
    const results = await runRounds(ctx, opts, commit);
    console.log(formatReport(results));
    await mkdir(join(opts.resultsPath, '..'), { recursive: true });
    await writeFile(opts.resultsPath, JSON.stringify(results, null, 2) + '\n');
    log(`results written to ${opts.resultsPath}; bench took ${elapsedSeconds().toFixed(0)} s`);
    failed = false;
  } finally {
    await registry.stop();
    // A failed comparison keeps its trees for a look.
    if (failed) log(`work directory kept for a look (the next bench removes it): ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

async function runRounds(ctx: BenchContext, opts: BenchOptions, commit: string): Promise<BenchResults> {
  const perImage = [ctx.images.debian, ctx.images.synthetic].map((image) => ({
    image,
    samples: {
      reference: [],
      cold: [],
      noChange: [],
      noChangeWarm: [],
      pipe: [],
      floor: [],
      floorWarm: [],
    } as ImageSamples,
  }));
  const two: TwoVolumeSamples = { cold: [], changed: [] };
  // Every round of one scenario before the next: the synthetic image's whiteouts (unpacked by umoci and lkvol alike)
  // and the one-volume-changed rebuild free thousands of inodes, and ext4 without a journal then scans past them in
  // whatever allocates inodes next (README, "Measured on this machine"). Debian's rounds come first, so that no
  // Debian run pays for the scenario before it; within a round the tools still alternate.
  for (const { image, samples } of perImage)
    for (let round = 1; round <= opts.runs; round++) {
      log(`${image.name}: round ${round} of ${opts.runs}`);
      await runImageRound(ctx, image, { round, samples });
    }
  for (let round = 1; round <= opts.runs; round++) {
    log(`two volumes: round ${round} of ${opts.runs}`);
    await runTwoVolumeRound(ctx, round, two);
  }
  return {
    date: new Date().toISOString(),
    host: { cpus: cpus().length, memoryMb: Math.round(totalmem() / 2 ** 20), kernel: release(), node: process.version },
    lkvolCommit: commit,
    runs: opts.runs,
    cachesDropped: ctx.dropper.enabled,
    cachesNote: ctx.dropper.reason,
    images: perImage.map(({ image, samples }) => summarizeImage(image, treeOf(ctx, image.name), samples)),
    twoVolumes: summarizeTwoVolumes('two volumes: big (synthetic) + base (debian), then base swapped for tiny', two),
  };
}

/** `<cache>/work-<pid>`, after removing what killed benches left (their pid is gone). */
async function createWorkDir(cacheDir: string): Promise<string> {
  await mkdir(cacheDir, { recursive: true });
  for (const name of await readdir(cacheDir)) {
    const pid = Number(/^work-(\d+)$/.exec(name)?.[1] ?? NaN);
    if (Number.isInteger(pid) && !isAlive(pid)) await rm(join(cacheDir, name), { recursive: true, force: true });
  }
  const work = join(cacheDir, `work-${process.pid}`);
  await mkdir(work);
  return work;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function gitCommit(): Promise<string> {
  const r = await execa('git', ['describe', '--always', '--dirty'], { cwd: repoRoot(), reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : 'unknown';
}

main().catch((err: unknown) => {
  if (err instanceof TreeMismatchError)
    log('FAILED: an lkvol output differs from the reference; no timing is reported');
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
