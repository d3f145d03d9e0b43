// Unpacks an image's layers into a directory (a volume's lower/, a bundle's root): download, verify, extract.
import { mkdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { corruptCachedDigest, FollowInterruptedError } from '../cache/index.js';
import { removeTree } from '../internal/remove.js';
import {
  createExtractState,
  extractLayer,
  finishExtraction,
  volumeReport,
  type ExtractState,
  type LayerWarning,
  type VolumeLimits,
  type VolumeReport,
} from '../layer/index.js';
import { checkImageLayers } from '../oci/index.js';
import { formatReference, type NormalizedRef } from '../ref/index.js';
import type { ResolvedImage } from '../registry/index.js';
import type { EventSink } from '../events.js';
import type { ResolvedBuildOptions } from './options.js';
import type { LayerRecord } from './record.js';
import type { PullSession } from '../pull/index.js';

/**
 * `onLayer` and `onLayerProgress` reporting a volume's layers (`{ volume }`) or a bundle's (`{ bundle }`) as
 * layer-start, layer-applied and layer-progress events.
 */
export function layerEvents(
  onEvent: EventSink,
  target: { volume: string } | { bundle: string },
): Pick<UnpackJob, 'onLayer' | 'onLayerProgress'> {
  return {
    onLayer: (digest, index, count, phase) =>
      onEvent({ kind: phase === 'start' ? 'layer-start' : 'layer-applied', ...target, digest, index, count }),
    onLayerProgress: (digest, entries, bytes) => onEvent({ kind: 'layer-progress', ...target, digest, entries, bytes }),
  };
}

/** One image to unpack into `root`. */
export interface UnpackJob {
  /** For messages: `volume "data"`, `onboot "mount"`. */
  what: string;
  ref: NormalizedRef;
  image: ResolvedImage;
  /** The directory the layers are applied onto; it exists and is empty. */
  root: string;
  limits: VolumeLimits;
  session: PullSession;
  options: ResolvedBuildOptions;
  /** Called when each layer starts to be applied, and after it is. */
  onLayer: (digest: string, index: number, count: number, phase: 'start' | 'applied') => void;
  /** Called while a layer is applied: its entries and file bytes so far. */
  onLayerProgress?: ((digest: string, entries: number, bytes: number) => void) | undefined;
  /**
   * A last layer of lkvol's own, applied after the image's with the same rules (see skeleton.ts), made from what the
   * image left.
   */
  finalLayer?:
    ((root: string, state: ExtractState) => Promise<{ name: string; tar: Readable } | undefined>) | undefined;
}

export interface Unpacked {
  layers: LayerRecord[];
  report: VolumeReport;
}

/**
 * Checks the image's layers (media types, diff_ids one for one) before fetching any, then unpacks; when
 * a blob read from the cache turns out corrupt (not a bad download, not a diff_id mismatch: those fail
 * the same way again), drops that blob, empties `root` and starts over once.
 */
export async function unpackWithRetry(job: UnpackJob): Promise<Unpacked> {
  checkImageLayers(job.image.manifest, job.image.config, `${job.what}: image ${formatReference(job.ref)}`);
  try {
    return await unpackImage(job);
  } catch (err) {
    const corrupt = corruptCachedDigest(err);
    // A download that started again after part of it was unpacked: unpack again from the cache.
    if (corrupt === undefined && !(err instanceof FollowInterruptedError)) throw err;
    if (corrupt !== undefined) {
      job.options.onEvent({
        kind: 'warning',
        code: 'LKVOL_WARN_CACHE_CORRUPT',
        message: `${job.what}: ${(err as Error).message}; fetching it again`,
      });
      await job.session.forgetBlob(corrupt);
    } else {
      // Every layer stored first: the second pass then reads verified blobs from the cache only.
      await Promise.all(job.image.manifest.layers.map((l) => job.session.fetchBlob(job.ref, l)));
    }
    await removeTree(job.root);
    await mkdir(job.root);
    return unpackImage(job);
  }
}

/** Applies the manifest's layers in order while later ones keep downloading. The caller has checked them. */
async function unpackImage(job: UnpackJob): Promise<Unpacked> {
  const { session, options, ref, image, root, what } = job;
  const layers = image.manifest.layers;
  const diffIds = image.config.rootfs.diff_ids;
  // Start every download now; each is awaited in order below, so attach a no-op catch to avoid unhandled rejections.
  const downloads = layers.map((l) => session.fetchBlob(ref, l));
  for (const d of downloads) d.catch(() => {});
  // A layer that names urls may be missing from the registry (lkvol never fetches urls): refuse before applying any.
  await Promise.all(downloads.filter((_, i) => (layers[i]!.urls?.length ?? 0) > 0));
  const state = createExtractState(job.limits);
  const common = {
    root,
    state,
    applyOwnership: options.applyOwnership,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onWarning: (w: LayerWarning) =>
      w.code !== 'LKVOL_WARN_DEVICE_SKIPPED' &&
      options.onEvent({ kind: 'warning', code: w.code, message: `${what}: ${w.message}` }),
  };
  const records: LayerRecord[] = [];
  for (const [index, layer] of layers.entries()) {
    job.onLayer(layer.digest, index, layers.length, 'start');
    const blob = await session.followBlob(ref, layer);
    const onProgress =
      job.onLayerProgress === undefined
        ? undefined
        : (entries: number, bytes: number) => job.onLayerProgress?.(layer.digest, entries, bytes);
    const result = await extractLayer(blob, {
      ...common,
      layer: layer.digest,
      diffId: diffIds[index]! /* checkImageLayers matched the counts */,
      onProgress,
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
    job.onLayer(layer.digest, index, layers.length, 'applied');
  }
  const final = await job.finalLayer?.(root, state);
  if (final !== undefined) await extractLayer(final.tar, { ...common, layer: final.name });
  finishExtraction(state, { root });
  const report = volumeReport(state);
  // One summary instead of one per layer; lkvol.json lists them.
  if (report.skipped.length > 0) {
    const sample = report.skipped
      .slice(0, 3)
      .map((e) => JSON.stringify(e.path))
      .join(', ');
    options.onEvent({
      kind: 'warning',
      code: 'LKVOL_WARN_DEVICE_SKIPPED',
      message: `${what}: ${report.skipped.length} device nodes not created (not permitted): ${sample}${report.skipped.length > 3 ? ', …' : ''}; listed in lkvol.json`,
    });
  }
  return { layers: records, report };
}
