// One layer in this thread: blob → tar bytes (source.ts) → applied entries (apply-layer.ts).
import type { Readable } from 'node:stream';
import type { Digest } from '../digest/index.js';
import { applyLayerTar, type ExtractLayerResult } from './apply-layer.js';
import { createLayerContext, enterLayer, leaveLayer, type ExtractState, type LayerWarning } from './context.js';
import { layerCaps, type LayerLimits } from './limits.js';
import { withTarBytes } from './source.js';

export type { ExtractLayerResult } from './apply-layer.js';

/** Options of {@link extractLayer}. */
export interface ExtractLayerOptions {
  /** The volume's `lower/` directory: it exists, and nothing outside it is ever touched. */
  root: string;
  /** The layer's digest, named in every error. */
  layer: string;
  /** Expected digest of the uncompressed layer (`rootfs.diff_ids`); checked at the end. */
  diffId?: Digest | undefined;
  /** The volume's state, from {@link createExtractState}. */
  state: ExtractState;
  /** Extra caps for this layer alone; the volume's caps (set in `createExtractState`) always apply. */
  limits?: LayerLimits | undefined;
  /**
   * Running as root: lchown entries to their archived owners, keep setuid/setgid, apply `user.*` and
   * `security.capability` xattrs, create device nodes. Without it (rootless) owners and dropped bits
   * are kept in the state for the caller to record (see `volumeReport`), and `finishExtraction` must
   * follow the last layer.
   */
  applyOwnership?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Receives summary warnings (skipped devices, dropped xattrs, data after the archive end). */
  onWarning?: ((w: LayerWarning) => void) | undefined;
  /** Told the layer's entries and file bytes applied so far, every 256 entries (apply-layer.ts `progressEvery`). */
  onProgress?: ((entries: number, bytes: number) => void) | undefined;
}

/**
 * Applies one layer blob (gzip, zstd or plain tar, detected from its bytes) onto `root` with OCI
 * semantics and the containment rules of SPEC §3 (see lib/layer/README.md). The blob is streamed,
 * never buffered whole, and always read to EOF so an upstream digest verifier can finish. On error
 * the root may hold part of the layer: extract into a staging directory and discard it on failure.
 * @throws LKVOL_LAYER_UNSAFE_PATH for entries that would escape the root (names the layer and entry).
 * @throws LKVOL_LAYER_CORRUPT for a broken gzip or tar stream, unknown entry types, header-only types
 *   with data, or a parent path that is not a directory.
 * @throws LKVOL_LAYER_LIMIT when maxBytes, maxEntries or maxDepth is exceeded, or a zstd frame's window is
 * over 128 MiB.
 * @throws LKVOL_UNSUPPORTED_MEDIA_TYPE for xz and bzip2 blobs, and for xattrs to apply without
 *   a native xattr binding for this platform.
 * @throws LKVOL_DIGEST_MISMATCH when the uncompressed digest differs from `diffId` (or upstream).
 * @throws LKVOL_IO when the host file system fails; LKVOL_CANCELLED when `signal` aborts.
 */
export async function extractLayer(blob: Readable, opts: ExtractLayerOptions): Promise<ExtractLayerResult> {
  enterLayer(opts.state);
  let done: { entries: number; bytes: number } | undefined;
  try {
    const result = await runLayer(blob, opts);
    done = result;
    return result;
  } finally {
    leaveLayer(opts.state, done);
  }
}

async function runLayer(blob: Readable, opts: ExtractLayerOptions): Promise<ExtractLayerResult> {
  const caps = layerCaps(opts.state.limits, opts.state, opts.limits);
  const applyOwnership = opts.applyOwnership ?? false;
  const ctx = createLayerContext({
    root: opts.root,
    layer: opts.layer,
    caps,
    applyOwnership,
    xattrPolicy: applyOwnership ? 'apply' : 'drop',
    state: opts.state,
  });
  try {
    return await withTarBytes(blob, { layer: opts.layer, cap: caps.bytes, signal: opts.signal }, (tar) =>
      applyLayerTar(ctx, tar, { diffId: opts.diffId, onWarning: opts.onWarning, onProgress: opts.onProgress }),
    );
  } finally {
    ctx.nodes.close();
  }
}
