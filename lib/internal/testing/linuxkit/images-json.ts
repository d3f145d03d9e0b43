// Test helper: images.json — for each image reference of the corpus, its LinuxKit package, uses and image config.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseReference } from '../../../ref/index.js';
import { finalStageConfig, type ImageRunConfig } from './dockerfile.js';
import type { LinuxkitPackage } from './packages.js';
import { plainConfig } from './plain-configs.js';
import type { ImageMention, ImageUse } from './system-images.js';

/** One image of images.json. */
export interface ImageRecord {
  /** The package directory that builds the repository, or null for images from elsewhere. */
  package: string | null;
  usedAs: ImageUse[];
  /** The `config` part of the image config to push. */
  config: ImageRunConfig;
}

/** The whole of images.json. */
export interface ImagesFile {
  linuxkitCommit: string;
  images: Record<string, ImageRecord>;
}

/** `--labels`: the `org.mobyproject.config` label `linuxkit pkg build` writes, by package directory. */
export interface LabelsFile {
  labels: Record<string, { image: string; label: string }>;
}

/** Where the config of each image came from, for the generator's report. */
export interface ImageNotes {
  /** References lkvol cannot parse (kept, with a plain config). */
  invalid: { ref: string; why: string }[];
  /** `linuxkit/…` references no build.yml names. */
  linuxkitWithoutPackage: string[];
  /** Images a test.sh builds with `docker build`, by reference, with the Dockerfile used. */
  locallyBuilt: { ref: string; dockerfile: string }[];
  /** Labels-file entries whose `image` is not the repository the package builds. */
  labelMismatches: { dir: string; image: string; repository: string }[];
}

export interface DescribeImagesOptions {
  /** The LinuxKit checkout. */
  root: string;
  mentions: readonly ImageMention[];
  packages: ReadonlyMap<string, LinuxkitPackage>;
  /** `docker build -t` name → Dockerfile (see local-images.ts). */
  localImages: ReadonlyMap<string, string>;
  labels?: LabelsFile | undefined;
}

const useOrder: readonly ImageUse[] = ['container', 'volume', 'init', 'kernel'];

/** Groups `mentions` by reference and gives each a package and a config; keys come out sorted. */
export async function describeImages(
  opts: DescribeImagesOptions,
): Promise<{ images: Record<string, ImageRecord>; notes: ImageNotes }> {
  const uses = new Map<string, Set<ImageUse>>();
  for (const m of opts.mentions) uses.set(m.ref, (uses.get(m.ref) ?? new Set()).add(m.usedAs));
  const notes: ImageNotes = {
    invalid: [],
    linuxkitWithoutPackage: [],
    locallyBuilt: [],
    labelMismatches: labelMismatches(opts),
  };
  const images: Record<string, ImageRecord> = {};
  for (const ref of [...uses.keys()].sort()) {
    const usedAs = useOrder.filter((u) => uses.get(ref)?.has(u) === true);
    images[ref] = { usedAs, ...(await configOf(ref, opts, notes)) };
  }
  return { images, notes };
}

async function configOf(
  ref: string,
  opts: DescribeImagesOptions,
  notes: ImageNotes,
): Promise<{ package: string | null; config: ImageRunConfig }> {
  let repository: string;
  try {
    const parsed = parseReference(ref);
    repository = parsed.registry === 'docker.io' ? parsed.repository : `${parsed.registry}/${parsed.repository}`;
  } catch (err) {
    notes.invalid.push({ ref, why: err instanceof Error ? err.message : String(err) });
    return { package: null, config: plainConfig('') };
  }
  const pkg = opts.packages.get(repository);
  if (pkg !== undefined) return { package: pkg.dir, config: await packageConfig(opts, pkg, repository) };
  const local = opts.localImages.get(ref);
  if (local !== undefined) {
    notes.locallyBuilt.push({ ref, dockerfile: local });
    return { package: null, config: finalStageConfig(await readFile(join(opts.root, local), 'utf8')) };
  }
  if (repository.startsWith('linuxkit/')) notes.linuxkitWithoutPackage.push(ref);
  return { package: null, config: plainConfig(repository) };
}

/** The Dockerfile's final stage, with `org.mobyproject.config` from the labels file when it has the package. */
async function packageConfig(
  opts: DescribeImagesOptions,
  pkg: LinuxkitPackage,
  repository: string,
): Promise<ImageRunConfig> {
  const config = finalStageConfig(await readFile(join(opts.root, pkg.dir, pkg.dockerfile), 'utf8'));
  const entry = opts.labels?.labels[pkg.dir];
  if (entry === undefined || entry.image !== repository) return config;
  return { ...config, Labels: { ...config.Labels, 'org.mobyproject.config': entry.label } };
}

function labelMismatches(opts: DescribeImagesOptions): ImageNotes['labelMismatches'] {
  const repositoryOf = new Map([...opts.packages].map(([repository, pkg]) => [pkg.dir, repository]));
  return Object.entries(opts.labels?.labels ?? {})
    .filter(([dir, e]) => repositoryOf.get(dir) !== e.image)
    .map(([dir, e]) => ({ dir, image: e.image, repository: repositoryOf.get(dir) ?? '(no package here)' }));
}

/** Reads and checks a labels file: `{ "labels": { "<dir>": { "image": "org/name", "label": "<json>" } } }`. */
export function parseLabelsFile(text: string, source: string): LabelsFile {
  const data: unknown = JSON.parse(text);
  const labels = (data as { labels?: unknown } | null)?.labels;
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels))
    throw new Error(
      `${source}: expected { "labels": { "<package dir>": { "image", "label" } } }, got ${text.slice(0, 80)}`,
    );
  for (const [dir, e] of Object.entries(labels as Record<string, unknown>)) {
    const entry = e as { image?: unknown; label?: unknown } | null;
    if (typeof entry?.image !== 'string' || typeof entry.label !== 'string')
      throw new Error(
        `${source}: labels[${JSON.stringify(dir)}]: expected { "image": string, "label": string }, got ${JSON.stringify(e)}`,
      );
  }
  return { labels: labels as LabelsFile['labels'] };
}
