// Writes one volume: lower/ (blank, an unpacked image, or an OCI layout), tmp/ and merged/.
import { mkdir } from 'node:fs/promises';
import { removeTree } from '../internal/remove.js';
import { join } from 'node:path';
import type { LoadedVolume } from '../config/index.js';
import { wrapError } from '../errors.js';
import { createExtractState, extractLayer, finishExtraction, volumeReport, type VolumeLimits, type VolumeReport } from '../layer/index.js';
import { checkImageLayers, formatPlatform } from '../oci/index.js';
import { formatReference, type NormalizedRef } from '../ref/index.js';
import type { ResolvedImage } from '../registry/index.js';
import type { ResolvedBuildOptions } from './options.js';
import type { LayerRecord, SkippedRecord, VolumeRecord } from './record.js';
import type { PullSession } from './session.js';
import { corruptCachedDigest, FollowInterruptedError } from '../cache/index.js';
import { summarizeTree } from './tree.js';
import { writeOciLayout } from './oci-layout.js';
import { reusedRecord, reuseVolume, volumeInputs } from './reuse.js';

export interface VolumeJob {
  volume: LoadedVolume;
  /** `<staging>/containers/volumes/<name>` */
  dir: string;
  session: PullSession;
  options: ResolvedBuildOptions;
  /** The volume of the same name in the previous output, when it has one: its record and its directory. */
  previous?: { record: VolumeRecord; dir: string } | undefined;
}

/** Creates the volume's directories and fills lower/. Throws what the pull or the extraction throws. */
export async function writeVolume(job: VolumeJob): Promise<VolumeRecord> {
  const { volume, dir, options } = job;
  const lower = join(dir, 'lower');
  try {
    for (const sub of ['lower', 'tmp', 'merged']) await mkdir(join(dir, sub), { recursive: true });
  } catch (err) {
    throw wrapError(err, 'LKVOL_IO', `volume "${volume.name}": create ${dir}`);
  }
  options.onEvent({ kind: 'volume-start', volume: volume.name, image: volume.ref === undefined ? undefined : formatReference(volume.ref) });
  let image: ResolvedImage | undefined;
  let layoutDigest: string | undefined;
  let layers: LayerRecord[] = [];
  let report: VolumeReport | undefined;
  let inputs: string | undefined;
  if (volume.ref !== undefined && volume.format === 'oci') {
    ({ digest: layoutDigest, layers } = await writeOciLayout({ ...job, ref: volume.ref, root: lower }));
  } else if (volume.ref !== undefined) {
    image = await job.session.resolve(volume.ref);
    inputs = volumeInputs(image, volumeLimits(volume, options.limits), options.applyOwnership);
    const reused = await reuse(job, inputs, lower);
    if (reused !== undefined) return reusedRecord(reused, volume, image);
    ({ layers, report } = await unpackWithRetry(job, volume.ref, image, lower));
  }
  const tree = await summarizeTree(lower, { intended: report?.intended, contentDigests: report?.contentDigests }).catch((err: unknown) => {
    throw wrapError(err, 'LKVOL_IO', `volume "${volume.name}": read back ${lower}`);
  });
  options.onEvent({ kind: 'volume-done', volume: volume.name, files: tree.files, bytes: tree.bytes, reused: false });
  return {
    name: volume.name,
    image: volume.ref === undefined ? null : formatReference(volume.ref),
    digest: layoutDigest ?? image?.digest ?? null,
    manifest: image?.manifestDigest ?? null,
    platform: image === undefined ? null : formatPlatform(image.platform),
    format: volume.format,
    readonly: volume.readonly,
    layers,
    files: tree.files,
    bytes: tree.bytes,
    contentDigest: tree.digest,
    ...(tree.ownership.length === 0 ? {} : { ownership: tree.ownership }),
    ...(report === undefined || report.skipped.length === 0 ? {} : { skipped: report.skipped.map(skippedRecord) }),
    ...(inputs === undefined ? {} : { inputs, fingerprint: tree.fingerprint }),
  };
}

/**
 * The previous output's record of the volume when its inputs are unchanged and its tree is intact,
 * after linking that tree into staging (see reuse.ts); undefined when the volume must be extracted.
 */
async function reuse(job: VolumeJob, inputs: string, lower: string): Promise<VolumeRecord | undefined> {
  const previous = job.previous;
  if (previous === undefined || previous.record.inputs !== inputs) return undefined;
  const reused = await reuseVolume({ from: previous.dir, to: lower, previous: previous.record, applyOwnership: job.options.applyOwnership, signal: job.options.signal }).catch((err: unknown) => {
    throw wrapError(err, 'LKVOL_IO', `volume "${job.volume.name}": reuse ${previous.dir}`);
  });
  if (!reused) return undefined;
  job.options.onEvent({ kind: 'volume-done', volume: job.volume.name, files: previous.record.files, bytes: previous.record.bytes, reused: true });
  return previous.record;
}

function skippedRecord(e: VolumeReport['skipped'][number]): SkippedRecord {
  return { path: e.path, type: e.kind, mode: e.mode.toString(8).padStart(4, '0'), uid: e.uid, gid: e.gid, major: e.devmajor, minor: e.devminor };
}

/** The caps of one volume: its `sizeLimit` stands in for the byte cap when it is the tighter of the two. */
export function volumeLimits(volume: LoadedVolume, limits: ResolvedBuildOptions['limits']): VolumeLimits {
  const bySize = volume.sizeLimit !== undefined && (limits.maxBytes === undefined || volume.sizeLimit <= limits.maxBytes);
  return {
    maxBytes: bySize ? volume.sizeLimit : limits.maxBytes,
    maxEntries: limits.maxEntries,
    maxDepth: limits.maxDepth,
    limitName: bySize ? `sizeLimit of volume "${volume.name}"` : undefined,
  };
}

/**
 * Checks the image's layers (media types, diff_ids one for one) before fetching any, then unpacks; when
 * a blob read from the cache turns out corrupt (not a bad download, not a diff_id mismatch: those fail
 * the same way again), drops that blob, empties lower/ and starts over once.
 */
async function unpackWithRetry(job: VolumeJob, ref: NormalizedRef, image: ResolvedImage, lower: string): Promise<Unpacked> {
  checkImageLayers(image.manifest, image.config, `volume "${job.volume.name}": image ${formatReference(ref)}`);
  try {
    return await unpackImage(job, ref, image, lower);
  } catch (err) {
    const corrupt = corruptCachedDigest(err);
    // A download that started again after part of it was unpacked: unpack again from the cache.
    if (corrupt === undefined && !(err instanceof FollowInterruptedError)) throw err;
    if (corrupt !== undefined) {
      job.options.onEvent({ kind: 'warning', code: 'LKVOL_WARN_CACHE_CORRUPT', message: `volume "${job.volume.name}": ${(err as Error).message}; fetching it again` });
      await job.session.forgetBlob(corrupt);
    } else {
      // Every layer stored first: the second pass then reads verified blobs from the cache only.
      await Promise.all(image.manifest.layers.map((l) => job.session.fetchBlob(ref, l)));
    }
    await removeTree(lower);
    await mkdir(lower);
    return unpackImage(job, ref, image, lower);
  }
}

interface Unpacked {
  layers: LayerRecord[];
  report: VolumeReport;
}

/** Applies the manifest's layers in order while later ones keep downloading. The caller has checked them. */
async function unpackImage(job: VolumeJob, ref: NormalizedRef, image: ResolvedImage, lower: string): Promise<Unpacked> {
  const { volume, session, options } = job;
  const layers = image.manifest.layers;
  const diffIds = image.config.rootfs.diff_ids;
  // Start every download now; each is awaited in order below, so attach a no-op catch to avoid unhandled rejections.
  const downloads = layers.map((l) => session.fetchBlob(ref, l));
  for (const d of downloads) d.catch(() => {});
  // A layer that names urls may be missing from the registry (lkvol never fetches urls): refuse before applying any.
  await Promise.all(downloads.filter((_, i) => (layers[i]!.urls?.length ?? 0) > 0));
  const state = createExtractState(volumeLimits(volume, options.limits));
  const records: LayerRecord[] = [];
  for (const [index, layer] of layers.entries()) {
    const blob = await session.followBlob(ref, layer);
    const result = await extractLayer(blob, {
      root: lower,
      layer: layer.digest,
      diffId: diffIds[index]!, // checkImageLayers matched the counts
      state,
      applyOwnership: options.applyOwnership,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onWarning: (w) => w.code !== 'LKVOL_WARN_DEVICE_SKIPPED' && options.onEvent({ kind: 'warning', code: w.code, message: `volume "${volume.name}": ${w.message}` }),
    }).catch(async (err: unknown) => {
      // The layer is unpacked while it downloads: bytes the download is about to reject (a digest
      // mismatch, an HTML page from a proxy) may break the tar reader first. The download's verdict is the cause.
      await downloads[index]!.then(
        () => undefined,
        (download: unknown) => {
          throw download;
        },
      );
      throw err;
    });
    records.push({ digest: layer.digest, diffId: result.diffId, mediaType: layer.mediaType, size: layer.size });
    options.onEvent({ kind: 'layer-applied', volume: volume.name, digest: layer.digest, index, count: layers.length });
  }
  finishExtraction(state, { root: lower });
  const report = volumeReport(state);
  // One summary for the volume instead of one per layer; lkvol.json lists them.
  if (report.skipped.length > 0) {
    const sample = report.skipped.slice(0, 3).map((e) => JSON.stringify(e.path)).join(', ');
    options.onEvent({ kind: 'warning', code: 'LKVOL_WARN_DEVICE_SKIPPED', message: `volume "${volume.name}": ${report.skipped.length} device nodes not created (not permitted): ${sample}${report.skipped.length > 3 ? ', …' : ''}; listed in lkvol.json` });
  }
  return { layers: records, report };
}
