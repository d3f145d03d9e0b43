// Caps that stop a runaway layer (gzip bomb, millions of entries, deep trees) before the disk fills.
import { Transform, type TransformCallback } from 'node:stream';
import { LkvolError } from '../errors.js';

/** Caps on extraction. Unset fields fall back to {@link defaultLimits} (volume) or none (layer). */
export interface LayerLimits {
  /** Bytes of regular-file content that may be written (the unit of a volume's `sizeLimit`). */
  maxBytes?: number | undefined;
  /** Tar entries (whiteouts and skipped entries count). */
  maxEntries?: number | undefined;
  /** Path components in an entry name. */
  maxDepth?: number | undefined;
}

/** Volume-wide caps, given to `createExtractState`: bytes and entries add up over all layers. */
export interface VolumeLimits extends LayerLimits {
  /** How `maxBytes` is called in messages, e.g. `sizeLimit of volume "data"`; default `maxBytes`. */
  limitName?: string | undefined;
}

/**
 * Defaults for a volume: 64 GiB of file content, 1,000,000 entries, 1024 path components (npm
 * tar's depth cap after CVE-2024-28863). The uncompressed stream of a layer (headers, padding,
 * bytes after the end-of-archive marker) may exceed its byte budget by {@link streamOverhead}.
 */
export const defaultLimits: Readonly<ResolvedLimits> = {
  maxBytes: 64 * 1024 ** 3,
  maxEntries: 1_000_000,
  maxDepth: 1024,
};

/** Allowance for tar headers and trailing data on top of the byte budget (1 KiB per default entry). */
export const streamOverhead = 1024 ** 3;

/** One cap as seen by a layer: what is left of it, and how to name it in an error. */
export interface Cap {
  /** Units this layer may still use. */
  remaining: number;
  /** The configured value, for messages. */
  value: number;
  name: string;
  hint: string;
}

/** The caps of one layer: the tighter of the volume's (minus what earlier layers used) and the layer's. */
export interface LayerCaps {
  bytes: Cap;
  entries: Cap;
  depth: Cap;
}

/** Limits with every cap set. */
export interface ResolvedLimits {
  maxBytes: number;
  maxEntries: number;
  maxDepth: number;
}

/** Volume limits with defaults filled in. */
export type ResolvedVolumeLimits = ResolvedLimits & { limitName: string | undefined };

/** Fills unset volume limits with the defaults. */
export function resolveVolumeLimits(l: VolumeLimits | undefined): ResolvedVolumeLimits {
  return {
    maxBytes: l?.maxBytes ?? defaultLimits.maxBytes,
    maxEntries: l?.maxEntries ?? defaultLimits.maxEntries,
    maxDepth: l?.maxDepth ?? defaultLimits.maxDepth,
    limitName: l?.limitName,
  };
}

/** Combines volume caps, what earlier layers used, and the optional per-layer caps. */
export function layerCaps(
  volume: ResolvedVolumeLimits,
  used: { bytes: number; entries: number },
  layer: LayerLimits | undefined,
): LayerCaps {
  const pick = (key: keyof LayerLimits, usedSoFar: number, volumeName: string, hint: string): Cap => {
    const fromVolume: Cap = { remaining: volume[key] - usedSoFar, value: volume[key], name: volumeName, hint };
    const layerMax = layer?.[key];
    if (layerMax === undefined || layerMax >= fromVolume.remaining) return fromVolume;
    return { remaining: layerMax, value: layerMax, name: `layer ${key}`, hint };
  };
  const byteName = volume.limitName ?? 'maxBytes';
  return {
    bytes: pick(
      'maxBytes',
      used.bytes,
      byteName,
      volume.limitName === undefined
        ? 'raise the cap with --max-bytes N (limits.maxBytes)'
        : `raise the ${byteName} in the system file`,
    ),
    entries: pick('maxEntries', used.entries, 'maxEntries', 'raise the cap with --max-entries N (limits.maxEntries)'),
    depth: pick('maxDepth', 0, 'maxDepth', 'raise the cap with --max-depth N (limits.maxDepth)'),
  };
}

/**
 * The LKVOL_LAYER_LIMIT error for an exceeded cap, naming it and how to raise it.
 * `what` completes "layer X: <what> exceeds <cap> (<value>)".
 */
export function limitError(layer: string, cap: Cap, what: string): LkvolError {
  return new LkvolError('LKVOL_LAYER_LIMIT', `layer ${layer}: ${what} exceeds ${cap.name} (${cap.value})`, {
    hint: cap.hint,
  });
}

/**
 * A pass-through that fails with LKVOL_LAYER_LIMIT once the uncompressed stream passes the byte
 * budget plus {@link streamOverhead}, so a decompression bomb stops even where no file is written
 * (e.g. after the end-of-archive marker).
 */
export function createByteCap(opts: { cap: Cap; layer: string }): Transform {
  const max = opts.cap.remaining + streamOverhead;
  let seen = 0;
  return new Transform({
    // Chunks pass one by one (an async iterator would otherwise get everything buffered, concatenated),
    // and up to 16 of them (4 MiB of 256 KiB inflate chunks) let inflating run ahead of extraction.
    readableObjectMode: true,
    readableHighWaterMark: 16,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length;
      if (seen > max) cb(limitError(opts.layer, opts.cap, `uncompressed stream (more than ${max} bytes)`));
      else cb(null, chunk);
    },
  });
}

/**
 * The byte cap of {@link createByteCap} for a whole stream taken before it is extracted (a
 * provisioner's output, spooled to a file): the volume's byte budget plus {@link streamOverhead}.
 */
export function createStreamCap(limits: VolumeLimits, layer: string): Transform {
  return createByteCap({
    cap: layerCaps(resolveVolumeLimits(limits), { bytes: 0, entries: 0 }, undefined).bytes,
    layer,
  });
}
