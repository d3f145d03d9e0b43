// Turns tar members into checked layer entries: supported types, UTF-8 names, sane numbers.
import { LkvolError, UnsafePathError } from '../errors.js';
import { paxXattrs, typeflags, type PaxXattrs, type TarHeader, type Xattr } from '../tar/index.js';

/** What an entry creates. Devices and FIFOs are created only where permitted (see README). */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';

/** One archive member, validated, names decoded. */
export interface LayerEntry {
  /** The name as archived (PAX `path` and GNU long names applied), not yet cleaned. */
  name: string;
  kind: EntryKind;
  /** Data bytes; 0 for every kind but `file`. */
  size: number;
  /** Permission bits only (07777): the file type comes from the typeflag, never from the mode. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, fractional when a PAX `mtime` says so. */
  mtime: number;
  /** Symlink or hardlink target, verbatim; '' for other kinds. */
  linkname: string;
  /** `SCHILY.xattr.*` records of the entry's PAX header, values byte for byte. */
  xattrs: readonly Xattr[];
  /** `LIBARCHIVE.xattr.*` records (ignored, as Go-based tools do). */
  foreignXattrs: number;
  /** Device numbers of a char or block device; 0 otherwise. */
  devmajor: number;
  devminor: number;
}

/** Typeflags lkvol extracts (the reader has already turned the legacy NUL type into `0` or `5`). */
const kinds: Record<string, EntryKind> = {
  [typeflags.regular]: 'file',
  [typeflags.contiguous]: 'file',
  [typeflags.hardlink]: 'link',
  [typeflags.symlink]: 'symlink',
  [typeflags.charDevice]: 'char',
  [typeflags.blockDevice]: 'block',
  [typeflags.directory]: 'dir',
  [typeflags.fifo]: 'fifo',
};

/** Linux's NAME_MAX: no file system lkvol writes to takes a longer name component. */
const maxComponentBytes = 255;
/** Times a Date can hold (±8.64e15 ms); containerd's boundTime turns anything else into the epoch. */
const maxSeconds = 8.64e12;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const ascii = /^[\x00-\x7f]*$/;

/**
 * Checks one member and turns it into a {@link LayerEntry}. Names arrive as latin1 (exact bytes)
 * and must be valid UTF-8, with no component over 255 bytes.
 * @throws LKVOL_LAYER_CORRUPT for unsupported types (GNU sparse `S`, `N`, vendor types), sparse PAX
 *   records, out-of-range numbers, malformed xattr records, an empty symlink target.
 * @throws LKVOL_LAYER_UNSAFE_PATH for names or targets that are not valid UTF-8 (two such names could
 *   otherwise collapse into one).
 */
export function normalizeEntry(h: TarHeader, layer: string): LayerEntry {
  const name = decodeName(h.name, { layer, entry: h.name, what: 'name' });
  const kind = kinds[h.typeflag];
  if (kind === undefined)
    throw corrupt(
      layer,
      name,
      h.typeflag === typeflags.gnuSparse
        ? 'GNU sparse files are not supported'
        : `unsupported entry type ${JSON.stringify(h.typeflag)}`,
    );
  if (h.pax.size > 0 && [...h.pax.keys()].some((k) => k.startsWith('GNU.sparse.')))
    throw corrupt(layer, name, 'sparse files are not supported');
  // A UTF-16 code unit is at most 3 UTF-8 bytes: shorter names cannot hold a long component.
  const long =
    name.length * 3 <= maxComponentBytes
      ? undefined
      : name.split('/').find((c) => Buffer.byteLength(c) > maxComponentBytes);
  if (long !== undefined)
    throw corrupt(layer, name, `name component of ${Buffer.byteLength(long)} bytes (at most ${maxComponentBytes})`);
  const linkname =
    kind === 'symlink' || kind === 'link' ? decodeName(h.linkname, { layer, entry: name, what: `${kind} target` }) : '';
  if (kind === 'symlink' && linkname === '') throw corrupt(layer, name, 'symlink with an empty target');
  const mode = checkedInt(h.mode, layer, name, 'mode') & 0o7777;
  const uid = checkedInt(h.uid, layer, name, 'uid');
  const gid = checkedInt(h.gid, layer, name, 'gid');
  const { xattrs, foreignXattrs } = h.pax.size === 0 ? noXattrs : xattrsOf(h, layer, name);
  const device = kind === 'char' || kind === 'block';
  return {
    name,
    kind,
    size: h.size,
    mode,
    uid,
    gid,
    mtime: Math.abs(h.mtime) <= maxSeconds ? h.mtime : 0,
    linkname,
    xattrs,
    foreignXattrs,
    devmajor: device ? checkedInt(h.devmajor, layer, name, 'devmajor') : 0,
    devminor: device ? checkedInt(h.devminor, layer, name, 'devminor') : 0,
  };
}

const noXattrs = { xattrs: Object.freeze([]), foreignXattrs: 0 };

function xattrsOf(h: TarHeader, layer: string, name: string): { xattrs: readonly Xattr[]; foreignXattrs: number } {
  let x: PaxXattrs;
  try {
    x = paxXattrs(h.pax);
  } catch (err) {
    throw corrupt(layer, name, (err as Error).message);
  }
  return { xattrs: x.xattrs, foreignXattrs: x.foreign };
}

/** Re-reads latin1 name bytes as strict UTF-8; the error names the entry and which of its names failed. */
function decodeName(raw: string, ref: { layer: string; entry: string; what: string }): string {
  // ASCII reads the same in latin1 and UTF-8: most names need no decoding.
  if (ascii.test(raw)) return raw;
  try {
    return utf8.decode(Buffer.from(raw, 'latin1'));
  } catch {
    throw new UnsafePathError({ layer: ref.layer, entry: ref.entry, reason: `${ref.what} is not valid UTF-8` });
  }
}

function checkedInt(n: number, layer: string, entry: string, field: string): number {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw corrupt(layer, entry, `invalid ${field} ${String(n)}`);
  return n;
}

function corrupt(layer: string, entry: string, why: string): LkvolError {
  return new LkvolError('LKVOL_LAYER_CORRUPT', `layer ${layer}: entry ${JSON.stringify(entry)}: ${why}`, {
    hint: 'the layer is not a well-formed OCI layer; rebuild the image',
  });
}
