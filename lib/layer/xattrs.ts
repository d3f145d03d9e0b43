// Extended attributes: which ones lkvol applies (user.*, security.capability, as root), byte for byte.
import { createRequire } from 'node:module';
import { LkvolError } from '../errors.js';
import type { LayerEntry } from './entries.js';

/** The functions of `@napi-rs/xattr` lkvol uses (path based, never following a final symlink). */
export interface XattrSupport {
  listAttributesSync(path: string): string[];
  getAttributeSync(path: string, name: string): Uint8Array | null;
  removeAttributeSync(path: string, name: string): void;
  setAttributeSync(path: string, name: string, value: Uint8Array): void;
}

/** Whether the xattr binding could be loaded: its functions, or why not. */
export type XattrMode = { kind: 'apply'; support: XattrSupport } | { kind: 'unavailable'; cause: Error };

/** What the entries of a layer do with their xattrs: apply them (as root), or only drop them (not root). */
export type XattrPolicy = 'apply' | 'drop';

let loaded: XattrMode | undefined;
const requireHere = createRequire(import.meta.url);

/**
 * Loads the native xattr binding once, when an entry or a copy first needs it (loading it takes
 * ~8 ms after a cache drop, 3 ms warm, and most images carry no xattrs). Node has no xattr API;
 * `@napi-rs/xattr` ships prebuilt binaries as optional npm dependencies. Without a binary for this
 * platform, layers that carry applicable xattrs are refused rather than unpacked without them.
 */
export function xattrSupport(): XattrMode {
  // require, not import(): the bundled command runs from a vm.Script with a code cache, where Node 20
  // loses the dynamic-import callback (the package is CommonJS either way).
  if (loaded === undefined) {
    try {
      loaded = { kind: 'apply', support: requireHere('@napi-rs/xattr') as XattrSupport };
    } catch (err) {
      loaded = { kind: 'unavailable', cause: err instanceof Error ? err : new Error(String(err)) };
    }
  }
  return loaded;
}

/**
 * Which archived xattrs are applied: `user.*` (but not the overlay file system's `user.overlay.*`)
 * and `security.capability` (file capabilities, e.g. of ping). `trusted.*` (incl. overlay),
 * `security.selinux` (a label of the building host), `security.ima`, `system.*` and the rest are
 * dropped with a warning, as containerd and umoci refuse or remap them.
 */
export function isAppliedXattr(name: string): boolean {
  if (name === 'security.capability') return true;
  return name.startsWith('user.') && !name.startsWith('user.overlay.');
}

/** Options of {@link applyXattrs}. */
export interface ApplyXattrsOptions {
  policy: XattrPolicy;
  layer: string;
  /** Remove applicable xattrs the entry does not carry (a directory merged over an older one). */
  replace: boolean;
  /** Receives the entry when some of its xattrs are dropped. */
  onDropped: (entry: LayerEntry) => void;
}

/**
 * Sets the entry's applicable xattrs on `path` (a regular file or directory lkvol just created or
 * re-resolved; the call does not follow a final symlink). Must run after chown, which clears
 * `security.capability`, and after the last write, which clears it too.
 * @throws LKVOL_UNSUPPORTED_MEDIA_TYPE when xattrs must be applied but no native binding loaded.
 * @returns whether it set any.
 * @throws LKVOL_IO when the output file system refuses them (e.g. no user xattrs).
 */
export function applyXattrs(path: string, entry: LayerEntry, o: ApplyXattrsOptions): boolean {
  const wanted = o.policy === 'drop' ? [] : entry.xattrs.filter((x) => isAppliedXattr(x.name));
  if (wanted.length < entry.xattrs.length || entry.foreignXattrs > 0) o.onDropped(entry);
  if (o.policy === 'drop' || (wanted.length === 0 && !o.replace)) return false;
  const mode = xattrSupport();
  if (mode.kind === 'unavailable') {
    if (wanted.length === 0) return false;
    throw new LkvolError(
      'LKVOL_UNSUPPORTED_MEDIA_TYPE',
      `layer ${o.layer}: entry ${JSON.stringify(entry.name)}: cannot apply extended attribute ${wanted[0]?.name ?? ''}: no xattr support on this platform`,
      {
        cause: mode.cause,
        hint: 'install lkvol with its optional dependencies (npm install without --omit=optional), or build as a non-root user, which drops xattrs',
      },
    );
  }
  const fs = mode.support;
  try {
    if (o.replace) {
      for (const name of fs.listAttributesSync(path))
        if (isAppliedXattr(name) && !wanted.some((w) => w.name === name)) fs.removeAttributeSync(path, name);
    }
    for (const x of wanted) fs.setAttributeSync(path, x.name, x.value);
    return wanted.length > 0;
  } catch (err) {
    const what = `layer ${o.layer}: entry ${JSON.stringify(entry.name)}: set extended attributes: ${(err as Error).message}`;
    if (isInvalidValue(err))
      throw new LkvolError('LKVOL_LAYER_CORRUPT', what, {
        cause: err,
        hint: 'the layer carries an xattr value the kernel refuses (e.g. a malformed security.capability); rebuild the image',
      });
    throw new LkvolError('LKVOL_IO', what, {
      cause: err,
      hint: 'the output directory must be on a file system with user and security xattrs (ext4, xfs, btrfs, tmpfs), with free space',
    });
  }
}

/**
 * EINVAL, E2BIG and ERANGE mean the archived value itself is wrong (a malformed capability, a value
 * over the kernel's size cap): a fault of the image. Other errnos are the host's. The binding reports
 * errors as "… (os error N)" without a code.
 */
function isInvalidValue(err: unknown): boolean {
  const m = /\(os error (\d+)\)/.exec(err instanceof Error ? err.message : '');
  return m !== null && [7, 22, 34].includes(Number(m[1]));
}

/**
 * Copies the xattrs lkvol applies (see {@link isAppliedXattr}) from directory `from` to directory
 * `to`, byte for byte: for a volume reused from an earlier output, whose directories are made anew.
 * @returns false when there is no xattr binding for this platform (the caller extracts instead).
 * @throws the binding's error when the file system refuses.
 */
export function copyAppliedXattrs(from: string, to: string): boolean {
  const mode = xattrSupport();
  if (mode.kind !== 'apply') return false;
  for (const name of mode.support.listAttributesSync(from)) {
    if (!isAppliedXattr(name)) continue;
    const value = mode.support.getAttributeSync(from, name);
    if (value !== null) mode.support.setAttributeSync(to, name, value);
  }
  return true;
}

/** The applied xattrs (see {@link isAppliedXattr}) `path` carries, by name in byte order; none without the binding. */
export function readAppliedXattrs(path: string): [string, Buffer][] {
  const mode = xattrSupport();
  if (mode.kind !== 'apply') return [];
  const out: [string, Buffer][] = [];
  for (const name of mode.support.listAttributesSync(path).filter(isAppliedXattr).sort()) {
    const value = mode.support.getAttributeSync(path, name);
    if (value !== null) out.push([name, Buffer.from(value)]);
  }
  return out;
}
