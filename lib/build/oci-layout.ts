// `format: oci` volumes: lower/ holds an OCI image layout of the selected platforms (SPEC §1.1).
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { digestHex, digestOf, parseDigest, type Digest } from '../digest/index.js';
import { LkvolError, wrapError } from '../errors.js';
import { mediaTypes, selectPlatformEntries, type Descriptor } from '../oci/index.js';
import { formatReference, type NormalizedRef } from '../ref/index.js';
import { createOnce } from '../internal/async.js';
import type { LayerRecord } from './record.js';
import type { LoadedVolume } from '../config/index.js';
import type { PullSession } from '../pull/index.js';

/** A `format: oci` volume to write: its image, through the build's session, into `root`. */
export interface LayoutJob {
  volume: LoadedVolume;
  session: PullSession;
  ref: NormalizedRef;
  root: string;
}

/**
 * Writes `oci-layout`, `index.json` and `blobs/sha256/*` for the volume's image into `root`. An index
 * is filtered to `platforms` (and rewritten, listing only what was written: SPEC fix); a single
 * manifest is written as a layout of that manifest. Blobs go through the cache, verified.
 * @throws LKVOL_PLATFORM_NOT_FOUND, LKVOL_UNSUPPORTED_MEDIA_TYPE, LKVOL_REGISTRY_*, LKVOL_DIGEST_MISMATCH, LKVOL_IO.
 */
export async function writeOciLayout(job: LayoutJob): Promise<{ digest: Digest; layers: LayerRecord[] }> {
  const { ref, root, session } = job;
  const top = await session.fetchManifest(ref);
  const put = await createBlobWriter(join(root, 'blobs', 'sha256'), `volume "${job.volume.name}"`);
  let manifests: Descriptor[];
  let rootDescriptor: Descriptor;
  if (top.document.kind === 'index') {
    const selected = selectPlatformEntries(top.document.index, job.volume.platforms, formatReference(ref));
    const filtered = selected.length !== top.document.index.manifests.length;
    const bytes = filtered ? Buffer.from(JSON.stringify({ ...top.document.index, manifests: selected })) : top.bytes;
    const digest = filtered ? digestOf(bytes) : top.digest;
    await put(digest, async () => Readable.from([bytes]));
    manifests = selected;
    rootDescriptor = { mediaType: top.mediaType, digest, size: bytes.length };
  } else {
    manifests = [{ mediaType: top.mediaType, digest: top.digest, size: top.bytes.length }];
    rootDescriptor = manifests[0]!;
  }
  const layers = new Map<string, LayerRecord>();
  for (const entry of manifests) for (const l of await writeManifest(job, entry, put)) layers.set(l.digest, l);
  await writeFile(join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = {
    schemaVersion: 2,
    mediaType: mediaTypes.ociIndex,
    manifests: [{ ...rootDescriptor, annotations: { 'org.opencontainers.image.ref.name': formatReference(ref) } }],
  };
  await writeFile(join(root, 'index.json'), JSON.stringify(index));
  return { digest: top.digest, layers: [...layers.values()] };
}

/** Fetches one manifest, copies its config and layers from the cache, and writes the manifest blob. */
async function writeManifest(job: LayoutJob, entry: Descriptor, put: BlobWriter): Promise<LayerRecord[]> {
  const { ref, session } = job;
  const child = await session.fetchManifest({ ...ref, tag: undefined, digest: parseDigest(entry.digest) }, entry.size);
  if (child.document.kind !== 'manifest') {
    throw new LkvolError(
      'LKVOL_UNSUPPORTED_MEDIA_TYPE',
      `volume "${job.volume.name}": ${formatReference(ref)}: nested index ${entry.digest} in a format: oci volume is not supported`,
      { hint: 'point the volume at the inner index' },
    );
  }
  const { manifest } = child.document;
  // Through openBlob, so the cached copy is verified on its way into the layout.
  for (const blob of [manifest.config, ...manifest.layers])
    await put(parseDigest(blob.digest), () => session.openBlob(ref, blob));
  await put(child.digest, async () => Readable.from([child.bytes]));
  return manifest.layers.map((l) => ({ digest: l.digest, diffId: null, mediaType: l.mediaType, size: l.size }));
}

/** Writes one blob of the layout from the stream `open` gives; memoised per digest. */
type BlobWriter = (digest: Digest, open: () => Promise<Readable>) => Promise<void>;

/**
 * A writer that puts each digest into `dir` once: platforms of an index share configs and layers, and a
 * manifest may list a layer twice. Files are still created with `wx`, so nothing already at a path is
 * followed or overwritten.
 */
async function createBlobWriter(dir: string, subject: string): Promise<BlobWriter> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw wrapError(err, 'LKVOL_IO', `${subject}: create ${dir}`);
  }
  const once = createOnce<void>();
  return (digest, open) =>
    once(digest, async () => {
      const source = await open();
      try {
        await pipeline(source, createWriteStream(join(dir, digestHex(digest)), { flags: 'wx' }));
      } catch (err) {
        throw wrapError(err, 'LKVOL_IO', `${subject}: copy blob ${digest} into the layout`);
      }
    });
}
