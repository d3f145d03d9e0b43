// Test helper: pushes one small image per reference of images.json to a test registry, under the reference's own
// repository and tag.
import { parseReference } from '../../../ref/index.js';
import { pushImage, sha256, type LayerInput } from '../push.js';
import { buildTar, gzip, type TarEntry } from '../tar.js';
import type { ImageRecord, ImagesFile } from './images-json.js';

/** What lkvol needs to find the pushed images under their original names, and what could not be pushed. */
export interface Mirrors {
  /** Registry as written in references (`docker.io`) → `http://127.0.0.1:PORT`. */
  mirrors: Record<string, string>;
  /** The same as lkvol flags: `--mirror docker.io=http://127.0.0.1:PORT`, sorted. */
  flags: string[];
  /** References pushed. */
  pushed: string[];
  /** References not pushed, with why: pinned by a digest no pushed image can have, or not a valid reference. */
  skipped: { ref: string; why: string }[];
}

/** The layer every image has: one small file, identical everywhere, so the registry stores it once. */
const baseEntries: readonly TarEntry[] = [
  { name: 'etc', type: 'dir' },
  {
    name: 'etc/lkvol-linuxkit-corpus',
    content: 'an image of the lkvol LinuxKit corpus; see testdata/linuxkit/README.md\n',
  },
];

/**
 * Pushes, for every reference of `images`, an OCI image (linux/amd64, `config` from images.json, a
 * shared base layer, plus a content layer `/<name>/…` for images used as volumes) to `registry`
 * (`127.0.0.1:PORT`, plain HTTP) as `repository:tag`, with Docker Hub's normalisation (`alpine:3.20` →
 * `library/alpine:3.20`). References pinned by digest are skipped: the pushed manifest cannot have that
 * digest. Throws on the first failed push. One push at a time: images share blobs (the base layer, equal
 * configs), and two uploads of one blob racing a manifest PUT make the registry answer MANIFEST_BLOB_UNKNOWN.
 */
export async function pushLinuxkitImages(registry: string, images: ImagesFile): Promise<Mirrors> {
  const base = await layerOf(baseEntries);
  const jobs: (() => Promise<void>)[] = [];
  const result: Mirrors = { mirrors: {}, flags: [], pushed: [], skipped: [] };
  const seen = new Map<string, { ref: string; record: ImageRecord }>();
  for (const [ref, record] of Object.entries(images.images).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const target = pushTargetOf(ref);
    if (typeof target === 'string') {
      result.skipped.push({ ref, why: target });
      continue;
    }
    result.mirrors[target.registry] = `http://${registry}`;
    result.pushed.push(ref);
    // `busybox` and `busybox:latest` are one tag: push it once, and only if both want the same image.
    const key = `${target.registry}/${target.repository}:${target.tag}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      if (JSON.stringify(earlier.record) !== JSON.stringify(record))
        throw new Error(`images.json: ${earlier.ref} and ${ref} are both ${key} but describe different images`);
      continue;
    }
    seen.set(key, { ref, record });
    jobs.push(async () => {
      const layers = record.usedAs.includes('volume')
        ? [base, await layerOf(volumeEntries(target.repository, ref))]
        : [base];
      await pushImage({
        registry,
        repository: target.repository,
        tag: target.tag,
        layers,
        format: 'oci',
        config: imageConfig(record),
      });
    });
  }
  for (const job of jobs) await job();
  result.flags = Object.entries(result.mirrors)
    .map(([from, to]) => `--mirror ${from}=${to}`)
    .sort();
  return result;
}

/** Repository and tag in the test registry, or why the reference cannot be pushed. */
function pushTargetOf(ref: string): { registry: string; repository: string; tag: string } | string {
  let parsed;
  try {
    parsed = parseReference(ref);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  if (parsed.digest !== undefined) return `pinned by digest ${parsed.digest}: a pushed image cannot have that digest`;
  return { registry: parsed.registry, repository: parsed.repository, tag: parsed.tag ?? 'latest' };
}

/**
 * A few files under `/<last path component>/`, so a volume seeded from the image is not empty and says where it came
 * from.
 */
function volumeEntries(repository: string, ref: string): TarEntry[] {
  const name = repository.split('/').at(-1) ?? repository;
  return [
    { name, type: 'dir' },
    { name: `${name}/hello`, content: `hello from ${ref}\n` },
    { name: `${name}/data`, type: 'dir', mode: 0o700 },
    { name: `${name}/data/run.sh`, content: '#!/bin/sh\necho hello\n', mode: 0o755 },
  ];
}

/** The whole image config: images.json holds only its `config` part; os and architecture come from pushImage. */
function imageConfig(record: ImageRecord): Record<string, unknown> {
  return { architecture: 'amd64', os: 'linux', config: record.config };
}

async function layerOf(entries: readonly TarEntry[]): Promise<LayerInput> {
  const tar = await buildTar(entries);
  return { data: gzip(tar), diffId: sha256(tar) };
}
