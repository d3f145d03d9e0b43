// Test helper: writes the LinuxKit corpus (systems/, builds.json, images.json, README.md) from a LinuxKit checkout.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { scanBuilds, markInvalidYaml, type BuildScan, type CorpusBuild } from './builds.js';
import { describeImages, type ImageNotes, type ImagesFile, type LabelsFile } from './images-json.js';
import { findLocallyBuiltImages } from './local-images.js';
import { indexPackages } from './packages.js';
import { renderReadme } from './readme.js';
import { findImageMentions, isValidYaml, looksLikeSystem, type ImageMention } from './system-images.js';
import { stableJson } from '../../stable-json.js';

export interface GenerateOptions {
  /** A LinuxKit checkout. */
  linuxkit: string;
  /** testdata/linuxkit; only systems/, builds.json, images.json and README.md in it are written. */
  out: string;
  /** Full hash of the LinuxKit commit checked out. */
  commit: string;
  labels?: LabelsFile | undefined;
}

/** What the generator wrote and what it could not account for. */
export interface CorpusReport {
  builds: CorpusBuild[];
  systemFiles: string[];
  images: ImagesFile;
  unparsed: BuildScan['unparsed'];
  overridden: BuildScan['overridden'];
  /** System files that are not valid YAML: every build using them is `refuse`. */
  invalidYaml: string[];
  /** Files under examples/ and test/cases/ that look like system files but no build uses (not copied). */
  unusedSystems: string[];
  substituted: BuildScan['substituted'];
  shadowedPackages: { repository: string; dir: string }[];
  notes: ImageNotes;
}

/** Reads the checkout, then replaces the generated part of `out`. Same checkout and labels → same bytes. */
export async function generateCorpus(opts: GenerateOptions): Promise<CorpusReport> {
  const scan = await scanBuilds(opts.linuxkit);
  const systemFiles = [...new Set(scan.builds.flatMap((b) => b.files))].sort();
  const texts = new Map<string, Buffer>();
  for (const file of systemFiles) texts.set(file, await readFile(join(opts.linuxkit, file)));
  const invalidYaml = systemFiles.filter((f) => !isValidYaml(texts.get(f)?.toString('utf8') ?? ''));
  const builds = markInvalidYaml(scan.builds, new Set(invalidYaml));
  const mentions: ImageMention[] = systemFiles.flatMap(
    (f) => findImageMentions(texts.get(f)?.toString('utf8') ?? '').mentions,
  );
  const packages = await indexPackages(opts.linuxkit);
  const scripts = [
    ...new Set(scan.builds.map((b) => b.origin.replace(/:\d+$/, '')).filter((o) => o.endsWith('test.sh'))),
  ];
  const described = await describeImages({
    root: opts.linuxkit,
    mentions,
    packages: packages.byRepository,
    localImages: await findLocallyBuiltImages(opts.linuxkit, scripts),
    labels: opts.labels,
  });
  const report: CorpusReport = {
    builds,
    systemFiles,
    images: { linuxkitCommit: opts.commit, images: described.images },
    unparsed: scan.unparsed,
    overridden: scan.overridden,
    invalidYaml,
    unusedSystems: await findUnusedSystems(opts.linuxkit, new Set(systemFiles)),
    substituted: scan.substituted,
    shadowedPackages: packages.shadowed,
    notes: described.notes,
  };
  await writeCorpus(opts.out, report, texts);
  return report;
}

/** YAML files of test/cases that look like systems (see looksLikeSystem) and are not in `used`, sorted. */
async function findUnusedSystems(root: string, used: ReadonlySet<string>): Promise<string[]> {
  const entries = await readdir(join(root, 'test/cases'), { recursive: true });
  const candidates = entries.filter((e) => /\.ya?ml$/.test(e)).map((e) => `test/cases/${e.split(sep).join('/')}`);
  const out: string[] = [];
  for (const file of candidates.filter((f) => !used.has(f)).sort())
    if (looksLikeSystem(await readFile(join(root, file), 'utf8'))) out.push(file);
  return out;
}

async function writeCorpus(out: string, report: CorpusReport, texts: ReadonlyMap<string, Buffer>): Promise<void> {
  await rm(join(out, 'systems'), { recursive: true, force: true });
  for (const [file, bytes] of texts) {
    await mkdir(dirname(join(out, 'systems', file)), { recursive: true });
    await writeFile(join(out, 'systems', file), bytes, { mode: 0o644 });
  }
  // Entries keep the order id, files, expect, origin: easier to read than sorted keys, and just as stable.
  await writeFile(join(out, 'builds.json'), `${JSON.stringify(report.builds, null, 2)}\n`);
  await writeFile(join(out, 'images.json'), stableJson(report.images));
  await writeFile(join(out, 'README.md'), renderReadme(report));
}
