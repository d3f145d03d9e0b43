// The layer pipeline: sniff → decompress → diffId hash → byte cap → tar reader → apply.
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { createHasher, digestAlgorithm, type Digest } from '../digest/index.js';
import { DigestMismatchError, LkvolError, wrapError } from '../errors.js';
import { TarFormatError, TarReader, type TarMember } from '../tar/index.js';
import { applyEntry } from './apply.js';
import { createLayerContext, enterLayer, layerWarnings, leaveLayer, type ExtractState, type LayerContext, type LayerWarning } from './context.js';
import { createDecompressor, detectCompression, peek } from './decompress.js';
import { normalizeEntry } from './entries.js';
import { createByteCap, layerCaps, limitError, type LayerLimits } from './limits.js';
import { applyDirMetadata } from './metadata.js';
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
  let reader: TarReader | undefined;
  try {
    const { head, stream } = await peek(blob);
    const decompress = createDecompressor(detectCompression(head), opts.layer);
    const cap = createByteCap({ cap: caps.bytes, layer: opts.layer });
    await pipeline(
      stream,
      decompress,
      hasher,
      cap,
      async (tar: AsyncIterable<Buffer>) => {
        reader = new TarReader(tar);
        for await (const member of reader.members()) await handleEntry(ctx, member);
      },
      opts.signal === undefined ? {} : { signal: opts.signal },
    );
    applyDirMetadata(ctx);
  } catch (err) {
    blob.destroy();
    if (err instanceof TarFormatError) throw new LkvolError('LKVOL_LAYER_CORRUPT', `layer ${opts.layer}: ${err.message}`, { hint: 'the layer is not a well-formed tar archive, or one that tools read differently; rebuild the image' });
    throw wrapError(err, 'LKVOL_LAYER_CORRUPT', `layer ${opts.layer}: read layer`, 'the layer is not a valid gzip or tar stream; rebuild the image');
  }
  const diffId = hasher.digest();
  checkDiffId(opts, diffId, hasher.bytes);
  report(opts, ctx, reader);
  return { entries: ctx.entries, bytes: ctx.bytes, diffId };
}

/** Normalizes and applies one entry; the reader skips whatever data the entry did not read. */
async function handleEntry(ctx: LayerContext, member: TarMember): Promise<void> {
  if (++ctx.entries > ctx.caps.entries.remaining) throw limitError(ctx.layer, ctx.caps.entries, 'entry count');
  const entry = normalizeEntry(member.header, ctx.layer);
  try {
    await applyEntry(ctx, entry, member.body);
  } catch (err) {
    if (err instanceof TarFormatError) throw err; // the archive, not the host: reported as a corrupt layer
    const where = `layer ${ctx.layer}: entry ${JSON.stringify(entry.name)}`;
    // The one errno the image causes rather than the host: a path longer than PATH_MAX.
    if ((err as NodeJS.ErrnoException).code === 'ENAMETOOLONG') throw wrapError(err, 'LKVOL_LAYER_LIMIT', where, 'the path is longer than the host allows (4096 bytes, output directory included); use a shorter output path or rebuild the image');
    throw wrapError(err, 'LKVOL_IO', where, 'check free space and permissions of the output directory');
  }
}

function checkDiffId(opts: ExtractLayerOptions, actual: Digest, bytesRead: number): void {
  if (opts.diffId === undefined || actual === opts.diffId) return;
  throw new DigestMismatchError({ subject: `layer ${opts.layer}: uncompressed content (diff_id)`, expected: opts.diffId, actual, bytesRead });
}

function report(opts: ExtractLayerOptions, ctx: LayerContext, reader: TarReader | undefined): void {
  if (opts.onWarning === undefined) return;
  for (const w of layerWarnings(ctx)) opts.onWarning(w);
  const trailing = reader?.trailingDataBytes ?? 0;
  if (trailing > 0) opts.onWarning({ code: 'LKVOL_WARN_TRAILING_DATA', message: `layer ${opts.layer}: ignored ${trailing} non-zero bytes after the end-of-archive marker` });
  const globals = reader?.globalHeaders ?? 0;
  if (globals > 0) opts.onWarning({ code: 'LKVOL_WARN_GLOBAL_PAX', message: `layer ${opts.layer}: ignored ${globals} global PAX header${globals === 1 ? '' : 's'} (containerd and moby apply none of their records)` });
}
