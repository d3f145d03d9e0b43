// State of extraction: the per-volume ExtractState and the per-layer bookkeeping the entries share.
import { internalError } from '../errors.js';
import { DirCache } from './dir-cache.js';
import { readUmask } from './umask.js';
import type { LayerEntry } from './entries.js';
import { NodeMaker, type SkippedEntry } from './special.js';
import type { XattrPolicy } from './xattrs.js';
import { resolveVolumeLimits, type LayerCaps, type ResolvedVolumeLimits, type VolumeLimits } from './limits.js';

/** A warning about content lkvol could not reproduce; the layer still applied. Codes: lib/warnings.ts. */
export interface LayerWarning {
  code:
    | 'LKVOL_WARN_DEVICE_SKIPPED'
    | 'LKVOL_WARN_XATTR_DROPPED'
    | 'LKVOL_WARN_AUFS_SKIPPED'
    | 'LKVOL_WARN_TRAILING_DATA'
    | 'LKVOL_WARN_GLOBAL_PAX';
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

/** Owner and permission bits the image gives a path (kept only when ownership is not applied). */
export interface IntendedMetadata {
  uid: number;
  gid: number;
  mode: number;
}

/** The state behind {@link ExtractState}, shared by the modules of lib/layer. */
export interface VolumeBookkeeping extends ExtractState {
  layers: number;
  entries: number;
  bytes: number;
  busy: boolean;
  /** Without ownership: what the image meant for each path it created (the last creation wins). */
  intended: Map<string, IntendedMetadata>;
  /** Without ownership: directories whose archived mode lacks u+rwx; they stay u+rwx until `finishExtraction`. */
  lockedDirs: Set<string>;
  /** Devices and FIFOs of the image that are not on disk, by resolved path. */
  skipped: Map<string, SkippedEntry>;
  /**
   * sha256 (hex) of each regular file's content as written, by resolved path; a hardlink gets its
   * target's. Entries of removed paths linger but are never looked up: every file on disk was
   * created by this extraction, which set its path last.
   */
  contentDigests: Map<string, string>;
  /** Directories known to be real; every removal must go through `removePath` to keep it true. */
  realDirs: DirCache;
  /**
   * Whether new files may not get lkvol's own group: a setgid directory in the volume (the root
   * included), or a file system that gives files their directory's group (`grpid`). Then every file is chown-ed.
   */
  setgidDirs: boolean;
  /**
   * Whether open(2) gives new files exactly the mode asked for minus the umask (no default ACL); undefined until the
   * first file.
   */
  exactModes: boolean | undefined;
  /**
   * Whether an entry's xattrs were set in this volume. Until then no directory holds one lkvol applies (the root
   * starts empty), so a directory merged over an older one has none to remove and the xattr binding is not loaded.
   */
  xattrsSet: boolean;
}

/**
 * Creates the state for one volume; pass it to every `extractLayer` call of that volume.
 * `limits` cap the whole volume: bytes and entries add up over its layers (a volume's `sizeLimit`
 * goes in `maxBytes`, with `limitName` saying so in errors). Unset caps take `defaultLimits`.
 */
export function createExtractState(limits?: VolumeLimits): ExtractState {
  const state: VolumeBookkeeping = {
    layers: 0,
    entries: 0,
    bytes: 0,
    limits: resolveVolumeLimits(limits),
    busy: false,
    intended: new Map(),
    lockedDirs: new Set(),
    skipped: new Map(),
    contentDigests: new Map(),
    realDirs: new DirCache(),
    setgidDirs: false,
    exactModes: undefined,
    xattrsSet: false,
  };
  return state;
}

/**
 * Marks the state busy for one layer; layers of a volume must apply one after another, in order.
 * @throws LKVOL_INTERNAL when a layer of the same volume is already being applied.
 */
export function enterLayer(state: ExtractState): void {
  const s = state as VolumeBookkeeping;
  if (s.busy) throw internalError('extractLayer called while another layer of the same volume is being applied');
  s.busy = true;
}

/** Releases the state; `done` adds a finished layer's counts to the totals. */
export function leaveLayer(state: ExtractState, done?: { entries: number; bytes: number }): void {
  const s = state as VolumeBookkeeping;
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
  /** Whether xattrs are applied (as root; the binding is loaded by the first entry that needs it) or dropped. */
  xattrPolicy: XattrPolicy;
  volume: VolumeBookkeeping;
  entries: number;
  bytes: number;
  /** Resolved paths (components joined by `/`) this layer created; whiteouts leave them alone. */
  written: Set<string>;
  /** Every ancestor of a path in `written`. */
  ancestors: Set<string>;
  /** Directory metadata applied at the end of the layer (children change a directory's mtime). */
  dirs: Map<string, LayerEntry>;
  /**
   * Directories this layer made, with the mode given to mkdir (its latest making of the path): they hold no
   * xattrs and belong to lkvol, so the end of the layer only sets what differs (see metadata.ts `applyDirMetadata`).
   * Any directory at such a path later in the layer was made by the layer too.
   */
  madeDirs: Map<string, number>;
  /** Times of directories whose children this layer changed, restored at the end (as umoci does). */
  touched: Map<string, { atime: number; mtime: number }>;
  skippedDevices: string[];
  skippedAufs: string[];
  xattrEntries: string[];
  /** The process's umask while this layer applies (see metadata.ts `readUmask`). */
  umask: number;
  /** Makes the layer's device nodes and FIFOs; closed with the layer. */
  nodes: NodeMaker;
}

/** Fresh bookkeeping for one layer. */
export function createLayerContext(
  opts: Pick<LayerContext, 'root' | 'layer' | 'caps' | 'applyOwnership' | 'xattrPolicy'> & { state: ExtractState },
): LayerContext {
  const { state, ...rest } = opts;
  return {
    ...rest,
    volume: state as VolumeBookkeeping,
    entries: 0,
    bytes: 0,
    written: new Set(),
    ancestors: new Set(),
    dirs: new Map(),
    madeDirs: new Map(),
    touched: new Map(),
    skippedDevices: [],
    skippedAufs: [],
    xattrEntries: [],
    umask: readUmask(),
    nodes: new NodeMaker(),
  };
}

/** Notes what the image meant for `rel` (only when ownership is not applied, for lkvol.json). */
export function noteIntended(ctx: LayerContext, rel: readonly string[], meta: IntendedMetadata | undefined): void {
  if (ctx.applyOwnership || meta === undefined) return;
  ctx.volume.intended.set(rel.join('/'), { uid: meta.uid, gid: meta.gid, mode: meta.mode });
}

/** Forgets skipped devices at or below `rel`, which was just removed or replaced. */
export function forgetSkipped(ctx: LayerContext, rel: readonly string[]): void {
  if (ctx.volume.skipped.size === 0) return;
  const key = rel.join('/');
  for (const path of ctx.volume.skipped.keys())
    if (key === '' || path === key || path.startsWith(`${key}/`)) ctx.volume.skipped.delete(path);
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
  const add = (code: LayerWarning['code'], list: string[], what: string) => {
    if (list.length === 0) return;
    const sample = list
      .slice(0, 3)
      .map((n) => JSON.stringify(n))
      .join(', ');
    out.push({
      code,
      message: `layer ${ctx.layer}: ${what} ${list.length} entr${list.length === 1 ? 'y' : 'ies'} (${sample}${list.length > 3 ? ', …' : ''})`,
    });
  };
  add('LKVOL_WARN_DEVICE_SKIPPED', ctx.skippedDevices, 'could not create (not permitted) device or FIFO');
  add('LKVOL_WARN_XATTR_DROPPED', ctx.xattrEntries, 'dropped extended attributes of');
  add('LKVOL_WARN_AUFS_SKIPPED', ctx.skippedAufs, 'skipped AUFS metadata');
  return out;
}
