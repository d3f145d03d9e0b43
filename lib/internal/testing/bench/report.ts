// Turns the runs into results: medians, ratios and peak RSS per image, printed as a table and
// written as JSON so they can be quoted.
import type { ReferenceTree } from './compare.js';
import type { BenchImage } from './images.js';
import type { ImageSamples, TwoVolumeSamples } from './scenarios.js';
import type { TimedRun } from './timed.js';

/** The median of some runs and the runs themselves, in seconds. */
export interface Timing {
  median: number;
  runs: number[];
}

/** Results of one image. */
export interface ImageResult {
  image: string;
  summary: string;
  /** Entries of the unpacked tree (the root left out). */
  entries: number;
  /** Directories whose time was not compared (umoci dates them at unpack time; see compare.ts). */
  timesNotCompared: number;
  reference: Timing;
  lkvolCold: Timing;
  lkvolNoChange: Timing;
  lkvolNoChangeWarm: Timing;
  /** `curl | gzip -d | tar -x` of the layers: no check at all (pipe.ts). */
  pipe: Timing;
  /** lkvol cold ÷ reference (medians). */
  coldRatio: number;
  /** The pipe ÷ reference: the cold ratio this machine allows a tool that checks nothing. */
  pipeRatio: number;
  /** lkvol cold ÷ the pipe. */
  coldToPipe: number;
  /** The least a Node program does to find the volume unchanged (floor.ts), caches dropped and warm. */
  floor: Timing;
  floorWarm: Timing;
  /** The floor ÷ lkvol cold: the no-change ratios this machine and Node allow. */
  floorRatio: number;
  floorWarmRatio: number;
  /** No-change rebuild (caches dropped) ÷ lkvol cold. */
  noChangeRatio: number;
  /** No-change rebuild with warm caches ÷ lkvol cold. */
  noChangeWarmRatio: number;
  /** Largest peak RSS of any lkvol run on this image. */
  peakRssMb: number;
  /** Largest peak RSS of skopeo or umoci. */
  referencePeakRssMb: number;
}

/** Results of the two-volume system. */
export interface TwoVolumeResult {
  summary: string;
  lkvolCold: Timing;
  lkvolOneChanged: Timing;
  /** One volume changed ÷ cold build of both (medians). */
  oneChangedRatio: number;
  peakRssMb: number;
}

/** Everything a run of the bench measured, with the conditions. */
export interface BenchResults {
  date: string;
  host: { cpus: number; memoryMb: number; kernel: string; node: string };
  lkvolCommit: string;
  runs: number;
  cachesDropped: boolean;
  /** Why caches were not dropped ('' when they were). */
  cachesNote: string;
  images: ImageResult[];
  twoVolumes: TwoVolumeResult;
}

/** The median (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function timing(runs: readonly TimedRun[]): Timing {
  const seconds = runs.map((r) => round(r.seconds, 3));
  return { median: round(median(seconds), 3), runs: seconds };
}

function peakMb(...groups: (readonly TimedRun[])[]): number {
  return Math.round(Math.max(...groups.flat().map((r) => r.peakRssKb)) / 1024);
}

/** Medians, ratios and peak RSS of one image's runs. */
export function summarizeImage(image: BenchImage, tree: ReferenceTree, s: ImageSamples): ImageResult {
  const [reference, cold, noChange, warm, pipe, floor, floorWarm] = [
    timing(s.reference),
    timing(s.cold),
    timing(s.noChange),
    timing(s.noChangeWarm),
    timing(s.pipe),
    timing(s.floor),
    timing(s.floorWarm),
  ];
  return {
    image: image.name,
    summary: image.summary,
    entries: tree.lines.length,
    timesNotCompared: tree.skipTime.size,
    reference,
    lkvolCold: cold,
    lkvolNoChange: noChange,
    lkvolNoChangeWarm: warm,
    pipe,
    coldRatio: round(cold.median / reference.median, 2),
    pipeRatio: round(pipe.median / reference.median, 2),
    coldToPipe: round(cold.median / pipe.median, 2),
    floor,
    floorWarm,
    floorRatio: round(floor.median / cold.median, 2),
    floorWarmRatio: round(floorWarm.median / cold.median, 2),
    noChangeRatio: round(noChange.median / cold.median, 2),
    noChangeWarmRatio: round(warm.median / cold.median, 2),
    peakRssMb: peakMb(s.cold, s.noChange, s.noChangeWarm),
    referencePeakRssMb: peakMb(s.reference),
  };
}

/** Medians and the ratio of the two-volume system's runs. */
export function summarizeTwoVolumes(summary: string, s: TwoVolumeSamples): TwoVolumeResult {
  const [cold, changed] = [timing(s.cold), timing(s.changed)];
  return {
    summary,
    lkvolCold: cold,
    lkvolOneChanged: changed,
    oneChangedRatio: round(changed.median / cold.median, 2),
    peakRssMb: peakMb(s.cold, s.changed),
  };
}

/** The results as text: a block per image, then the two-volume system. */
export function formatReport(r: BenchResults): string {
  const caches = r.cachesDropped
    ? 'page cache dropped before every run but "warm"'
    : `page cache NOT dropped (${r.cachesNote})`;
  const lines = [
    `lkvol bench: median of ${r.runs} run${r.runs === 1 ? '' : 's'}, seconds; ${caches}`,
    `${r.host.cpus} CPUs, ${r.host.memoryMb} MB, Linux ${r.host.kernel}, Node ${r.host.node}, lkvol ${r.lkvolCommit}`,
  ];
  for (const i of r.images) {
    lines.push(
      '',
      `${i.summary}: ${i.entries} entries, every lkvol tree equal to umoci's (times of ${i.timesNotCompared} directories not compared)`,
    );
    lines.push(row('skopeo copy + umoci unpack', i.reference, ''));
    lines.push(row('lkvol cold', i.lkvolCold, `${i.coldRatio.toFixed(2)}× reference`));
    lines.push(row('lkvol no-change rebuild', i.lkvolNoChange, `${i.noChangeRatio.toFixed(2)}× cold`));
    lines.push(row('lkvol no-change rebuild, warm', i.lkvolNoChangeWarm, `${i.noChangeWarmRatio.toFixed(2)}× cold`));
    lines.push(row('no-change floor (node: HEAD, lstat)', i.floor, `${i.floorRatio.toFixed(2)}× cold`));
    lines.push(row('no-change floor, warm', i.floorWarm, `${i.floorWarmRatio.toFixed(2)}× cold`));
    lines.push(row('curl | gzip -d | tar -x', i.pipe, `${i.pipeRatio.toFixed(2)}× reference`));
    lines.push(`  lkvol cold: ${i.coldToPipe.toFixed(2)}× the pipe, which checks nothing`);
    lines.push(`  peak RSS: lkvol ${i.peakRssMb} MB (skopeo/umoci ${i.referencePeakRssMb} MB)`);
  }
  const t = r.twoVolumes;
  lines.push('', t.summary);
  lines.push(row('lkvol cold, both volumes', t.lkvolCold, ''));
  lines.push(row('lkvol one volume changed', t.lkvolOneChanged, `${t.oneChangedRatio.toFixed(2)}× cold of both`));
  lines.push(`  peak RSS: lkvol ${t.peakRssMb} MB`);
  return lines.join('\n') + '\n';
}

function row(what: string, t: Timing, ratio: string): string {
  const runs = `runs ${t.runs.map((s) => s.toFixed(2)).join(' ')}`;
  return `  ${what.padEnd(35)} ${t.median.toFixed(2).padStart(7)} s  ${ratio.padEnd(20)} ${runs}`;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
