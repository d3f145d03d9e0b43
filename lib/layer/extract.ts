// The layer pipeline: sniff → decompress → diffId hash → byte cap → end-of-archive cut → tar → apply.
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { extract as createTarExtract } from 'tar-stream';
import { createHasher, digestAlgorithm, type Digest } from '../digest/index.js';
import { DigestMismatchError, wrapError } from '../errors.js';
import { applyEntry } from './apply.js';
import { createLayerContext, enterLayer, layerWarnings, leaveLayer, type ExtractState, type LayerContext, type LayerWarning } from './context.js';
import { createDecompressor, detectCompression, peek } from './decompress.js';
import { createEndOfArchiveCut } from './end-of-archive.js';
import { normalizeEntry, type RawHeader } from './entries.js';
import { createByteCap, layerCaps, limitError, type LayerLimits } from './limits.js';
import { applyDirMetadata } from './metadata.js';
import type { PaxXattrs } from './pax.js';
import { loadXattrSupport } from './xattrs.js';

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
}

/** What one applied layer did. */
export interface ExtractLayerResult {
  /** Tar entries read (whiteouts and skipped entries included). */
  entries: number;
  /** Regular-file bytes written. */
  bytes: number;
  /** Digest of the uncompressed stream, every byte up to EOF (also past the end-of-archive marker). */
  diffId: Digest;
}

/**
 * Applies one layer blob (gzip, zstd or plain tar, detected from its bytes) onto `root` with OCI
 * semantics and the containment rules of SPEC §3 (see lib/layer/README.md). The blob is streamed,
 * never buffered whole, and always read to EOF so an upstream digest verifier can finish. On error
 * the root may hold part of the layer: extract into a staging directory and discard it on failure.
 * @throws LKVOL_LAYER_UNSAFE_PATH for entries that would escape the root (names the layer and entry).
 * @throws LKVOL_LAYER_CORRUPT for a broken gzip or tar stream, unknown entry types, header-only types
 *   with data, or a parent path that is not a directory.
 * @throws LKVOL_LAYER_LIMIT when maxBytes, maxEntries or maxDepth is exceeded, or a zstd frame's window is over 128 MiB.
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
  // An upstream verifier may fail before the pipeline is attached (while peeking); pipeline still
  // sees the error through the stream's errored state, but unheard it would crash the process.
  blob.on('error', () => undefined);
  const caps = layerCaps(opts.state.limits, opts.state, opts.limits);
  const applyOwnership = opts.applyOwnership ?? false;
  const xattrMode = applyOwnership ? await loadXattrSupport() : ({ kind: 'drop' } as const);
  const ctx = createLayerContext({ root: opts.root, layer: opts.layer, caps, applyOwnership, xattrMode, state: opts.state });
  const hasher = createHasher(opts.diffId === undefined ? 'sha256' : digestAlgorithm(opts.diffId));
  // The cut reads each member's PAX header as bytes before tar-stream parses it; entries take them in order.
  const paxQueue: (PaxXattrs | undefined)[] = [];
  const cut = createEndOfArchiveCut(opts.layer, { onMember: (pax) => paxQueue.push(pax) });
  // latin1 keeps name bytes exact (tar-stream supports the option; its typings omit it); see entries.ts.
  const tar = createTarExtract({ filenameEncoding: 'latin1' } as Parameters<typeof createTarExtract>[0]);
  let current: Promise<void> = Promise.resolve();
  tar.on('entry', (header, body, next) => {
    // A truncated archive destroys the entry with an error the pipeline reports too; unheard, it would crash.
    body.on('error', () => undefined);
    current = handleEntry(ctx, header as RawHeader, body as AsyncIterable<Uint8Array>, paxQueue.shift());
    void current.then(() => next(), next);
  });
  try {
    const { head, stream } = await peek(blob);
    const decompress = createDecompressor(detectCompression(head), opts.layer);
    const cap = createByteCap({ cap: caps.bytes, layer: opts.layer });
    await pipeline(stream, decompress, hasher, cap, cut, tar, opts.signal === undefined ? {} : { signal: opts.signal });
    // tar-stream finishes as soon as it has parsed everything, possibly before the last entry is applied.
    await current;
    applyDirMetadata(ctx);
  } catch (err) {
    // The handler of the current entry may still be writing; let it stop before the caller cleans up.
    await current.catch(() => undefined);
    blob.destroy();
    throw wrapError(err, 'LKVOL_LAYER_CORRUPT', `layer ${opts.layer}: read layer`, 'the layer is not a valid gzip or tar stream; rebuild the image');
  }
  const diffId = hasher.digest();
  checkDiffId(opts, diffId, hasher.bytes);
  report(opts, ctx, cut.trailingDataBytes);
  return { entries: ctx.entries, bytes: ctx.bytes, diffId };
}

/** Normalizes and applies one entry, then drains what the entry did not read. */
async function handleEntry(ctx: LayerContext, header: RawHeader, body: AsyncIterable<Uint8Array>, pax: PaxXattrs | undefined): Promise<void> {
  if (++ctx.entries > ctx.caps.entries.remaining) throw limitError(ctx.layer, ctx.caps.entries, 'entry count');
  const entry = normalizeEntry(header, ctx.layer, pax);
  try {
    await applyEntry(ctx, entry, body);
  } catch (err) {
    throw wrapError(err, 'LKVOL_IO', `layer ${ctx.layer}: entry ${JSON.stringify(entry.name)}`, 'check free space and permissions of the output directory');
  }
  // tar-stream needs every data byte read before it parses the next header.
  for await (const chunk of body) void chunk;
}

function checkDiffId(opts: ExtractLayerOptions, actual: Digest, bytesRead: number): void {
  if (opts.diffId === undefined || actual === opts.diffId) return;
  throw new DigestMismatchError({ subject: `layer ${opts.layer}: uncompressed content (diff_id)`, expected: opts.diffId, actual, bytesRead });
}

function report(opts: ExtractLayerOptions, ctx: LayerContext, trailingDataBytes: number): void {
  if (opts.onWarning === undefined) return;
  for (const w of layerWarnings(ctx)) opts.onWarning(w);
  if (trailingDataBytes > 0) {
    opts.onWarning({ code: 'LKVOL_WARN_TRAILING_DATA', message: `layer ${opts.layer}: ignored ${trailingDataBytes} non-zero bytes after the end-of-archive marker` });
  }
}
