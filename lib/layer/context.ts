// State of extraction: the per-volume ExtractState and the per-layer bookkeeping the entries share.
import { internalError } from '../errors.js';
import type { LayerEntry } from './entries.js';
import { resolveVolumeLimits, type LayerCaps, type ResolvedVolumeLimits, type VolumeLimits } from './limits.js';

/** A warning about content lkvol could not reproduce; the layer still applied. */
export interface LayerWarning {
  /** Stable code: LKVOL_WARN_DEVICE_SKIPPED, LKVOL_WARN_XATTR_DROPPED, LKVOL_WARN_AUFS_SKIPPED, LKVOL_WARN_TRAILING_DATA. */
  code: string;
  message: string;
}

/**
 * What one volume's extraction carries from layer to layer. Layers write straight into the same
 * root in manifest order, so nothing about earlier layers needs remembering beyond totals; the
 * state also makes sure two layers of one volume never apply at the same time.
 */
export interface ExtractState {
  /** Layers applied so far. */
  readonly layers: number;
  /** Entries read in all applied layers. */
  readonly entries: number;
  /** Regular-file bytes written by all applied layers (whiteouts not subtracted). */
  readonly bytes: number;
  /** The volume-wide caps, defaults filled in. */
  readonly limits: ResolvedVolumeLimits;
}

interface MutableState {
  layers: number;
  entries: number;
  bytes: number;
  limits: ResolvedVolumeLimits;
  busy: boolean;
}

/**
 * Creates the state for one volume; pass it to every `extractLayer` call of that volume.
 * `limits` cap the whole volume: bytes and entries add up over its layers (a volume's `sizeLimit`
 * goes in `maxBytes`, with `limitName` saying so in errors). Unset caps take `defaultLimits`.
 */
export function createExtractState(limits?: VolumeLimits): ExtractState {
  const state: MutableState = { layers: 0, entries: 0, bytes: 0, limits: resolveVolumeLimits(limits), busy: false };
  return state;
}

/**
 * Marks the state busy for one layer; layers of a volume must apply one after another, in order.
 * @throws LKVOL_INTERNAL when a layer of the same volume is already being applied.
 */
export function enterLayer(state: ExtractState): void {
  const s = state as MutableState;
  if (s.busy) throw internalError('extractLayer called while another layer of the same volume is being applied');
  s.busy = true;
}

/** Releases the state; `done` adds a finished layer's counts to the totals. */
export function leaveLayer(state: ExtractState, done?: { entries: number; bytes: number }): void {
  const s = state as MutableState;
  s.busy = false;
  if (done === undefined) return;
  s.layers++;
  s.entries += done.entries;
  s.bytes += done.bytes;
}

/** Everything the entry handlers of one layer share. */
export interface LayerContext {
  root: string;
  layer: string;
  caps: LayerCaps;
  applyOwnership: boolean;
  entries: number;
  bytes: number;
  /** Resolved paths (components joined by `/`) this layer created; whiteouts leave them alone. */
  written: Set<string>;
  /** Every ancestor of a path in `written`. */
  ancestors: Set<string>;
  /** Directory metadata applied at the end of the layer (children change a directory's mtime). */
  dirs: Map<string, LayerEntry>;
  /** Times of directories whose children this layer changed, restored at the end (as umoci does). */
  touched: Map<string, { atime: number; mtime: number }>;
  skippedDevices: string[];
  skippedAufs: string[];
  xattrEntries: string[];
}

/** Fresh bookkeeping for one layer. */
export function createLayerContext(opts: Pick<LayerContext, 'root' | 'layer' | 'caps' | 'applyOwnership'>): LayerContext {
  return { ...opts, entries: 0, bytes: 0, written: new Set(), ancestors: new Set(), dirs: new Map(), touched: new Map(), skippedDevices: [], skippedAufs: [], xattrEntries: [] };
}

/** Records that this layer created `rel`, so whiteouts and opaque markers of the layer keep it. */
export function markWritten(ctx: LayerContext, rel: readonly string[]): void {
  ctx.written.add(rel.join('/'));
  for (let i = rel.length - 1; i > 0; i--) {
    const key = rel.slice(0, i).join('/');
    if (ctx.ancestors.has(key)) break;
    ctx.ancestors.add(key);
  }
}

/** The end-of-layer warnings, one per kind, each listing a few examples. */
export function layerWarnings(ctx: LayerContext): LayerWarning[] {
  const out: LayerWarning[] = [];
  const add = (code: string, list: string[], what: string) => {
    if (list.length === 0) return;
    const sample = list.slice(0, 3).map((n) => JSON.stringify(n)).join(', ');
    out.push({ code, message: `layer ${ctx.layer}: ${what} ${list.length} entr${list.length === 1 ? 'y' : 'ies'} (${sample}${list.length > 3 ? ', …' : ''})` });
  };
  add('LKVOL_WARN_DEVICE_SKIPPED', ctx.skippedDevices, 'skipped device or FIFO');
  add('LKVOL_WARN_XATTR_DROPPED', ctx.xattrEntries, 'dropped extended attributes of');
  add('LKVOL_WARN_AUFS_SKIPPED', ctx.skippedAufs, 'skipped AUFS metadata');
  return out;
}

