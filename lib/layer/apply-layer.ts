// The files side of a layer: hash its tar bytes (diff_id), read its members, apply each one.
import { createHash } from 'node:crypto';
import { digestAlgorithm, type Digest } from '../digest/index.js';
import { DigestMismatchError, wrapError } from '../errors.js';
import { TarFormatError, TarReader, type TarMember } from '../tar/index.js';
import { applyEntry } from './apply.js';
import { layerWarnings, type LayerContext, type LayerWarning } from './context.js';
import { normalizeEntry } from './entries.js';
import { limitError } from './limits.js';
import { applyDirMetadata } from './metadata.js';

/** What one applied layer did. */
export interface ExtractLayerResult {
  /** Tar entries read (whiteouts and skipped entries included). */
  entries: number;
  /** Regular-file bytes written. */
  bytes: number;
  /** Digest of the uncompressed stream, every byte up to EOF (also past the end-of-archive marker). */
  diffId: Digest;
}

/** How often (in entries) a layer's progress is reported: often enough to move, rarely enough to cost nothing. */
export const progressEvery = 256;

/**
 * Applies a layer's tar bytes to `ctx.root`: every byte is hashed for the diff_id (also those after
 * the end-of-archive marker), members apply one at a time, directory metadata at the end. Warnings
 * (skipped devices, dropped xattrs, trailing data, global headers) go to `onWarning` once the layer
 * has applied; `onProgress` hears the entries and file bytes applied every {@link progressEvery} entries.
 * @throws TarFormatError for the archive's framing; LkvolError for entries (unsafe, corrupt, limits,
 *   host faults as LKVOL_IO) and LKVOL_DIGEST_MISMATCH when the bytes do not match `diffId`.
 */
export async function applyLayerTar(
  ctx: LayerContext,
  tar: AsyncIterable<Buffer>,
  o: {
    diffId?: Digest | undefined;
    onWarning?: ((w: LayerWarning) => void) | undefined;
    onProgress?: ((entries: number, bytes: number) => void) | undefined;
  },
): Promise<ExtractLayerResult> {
  const algorithm = o.diffId === undefined ? 'sha256' : digestAlgorithm(o.diffId);
  const hash = createHash(algorithm);
  let bytesRead = 0;
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of tar) {
      hash.update(chunk);
      bytesRead += chunk.length;
      yield chunk;
    }
  }
  const reader = new TarReader(hashed());
  for await (const member of reader.members()) {
    await applyMember(ctx, member);
    if (o.onProgress !== undefined && ctx.entries % progressEvery === 0) o.onProgress(ctx.entries, ctx.bytes);
  }
  applyDirMetadata(ctx);
  const diffId = `${algorithm}:${hash.digest('hex')}` as Digest;
  if (o.diffId !== undefined && diffId !== o.diffId) {
    throw new DigestMismatchError({
      subject: `layer ${ctx.layer}: uncompressed content (diff_id)`,
      expected: o.diffId,
      actual: diffId,
      bytesRead,
    });
  }
  if (o.onWarning !== undefined) for (const w of warningsOf(ctx, reader)) o.onWarning(w);
  return { entries: ctx.entries, bytes: ctx.bytes, diffId };
}

/** Normalizes and applies one entry; the reader skips whatever data the entry did not read. */
async function applyMember(ctx: LayerContext, member: TarMember): Promise<void> {
  if (++ctx.entries > ctx.caps.entries.remaining) throw limitError(ctx.layer, ctx.caps.entries, 'entry count');
  const entry = normalizeEntry(member.header, ctx.layer);
  try {
    await applyEntry(ctx, entry, member.body);
  } catch (err) {
    if (err instanceof TarFormatError) throw err; // the archive, not the host: reported as a corrupt layer
    const where = `layer ${ctx.layer}: entry ${JSON.stringify(entry.name)}`;
    // The one errno the image causes rather than the host: a path longer than PATH_MAX.
    if ((err as NodeJS.ErrnoException).code === 'ENAMETOOLONG')
      throw wrapError(err, 'LKVOL_LAYER_LIMIT', {
        message: where,
        hint: 'the path is longer than the host allows (4096 bytes, output directory included); use a shorter output path or rebuild the image',
      });
    throw wrapError(err, 'LKVOL_IO', {
      message: where,
      hint: 'check free space and permissions of the output directory',
    });
  }
}

function warningsOf(ctx: LayerContext, reader: TarReader): LayerWarning[] {
  const out = layerWarnings(ctx);
  const trailing = reader.trailingDataBytes;
  if (trailing > 0)
    out.push({
      code: 'LKVOL_WARN_TRAILING_DATA',
      message: `layer ${ctx.layer}: ignored ${trailing} non-zero bytes after the end-of-archive marker`,
    });
  const globals = reader.globalHeaders;
  if (globals > 0)
    out.push({
      code: 'LKVOL_WARN_GLOBAL_PAX',
      message: `layer ${ctx.layer}: ignored ${globals} global PAX header${globals === 1 ? '' : 's'} (containerd and moby apply none of their records)`,
    });
  return out;
}
