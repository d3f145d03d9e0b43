// Normalizes tar-stream headers into checked layer entries (type, names, PAX uid/gid/mtime).
import { LkvolError, UnsafePathError } from '../errors.js';
import type { PaxXattrs, Xattr } from './pax.js';

/** What an entry creates. Devices and FIFOs are created only where permitted (see README). */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';

/** One archive member, validated and with PAX overrides applied. */
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
  /** Symlink target or hardlink target, verbatim; '' for other kinds. */
  linkname: string;
  /** `SCHILY.xattr.*` records of the entry's PAX header, values byte for byte. */
  xattrs: readonly Xattr[];
  /** `LIBARCHIVE.xattr.*` records (ignored, as Go-based tools do). */
  foreignXattrs: number;
  /** Device numbers of a char or block device; 0 otherwise. */
  devmajor: number;
  devminor: number;
}

/** The header fields tar-stream 3 really produces (its typings hide the nulls). */
export interface RawHeader {
  name: string;
  type: string | null | undefined;
  size?: number | null | undefined;
  mode?: number | null | undefined;
  uid?: number | null | undefined;
  gid?: number | null | undefined;
  mtime?: Date | null | undefined;
  linkname?: string | null | undefined;
  devmajor?: number | null | undefined;
  devminor?: number | null | undefined;
  pax?: unknown;
}

const kinds: Record<string, EntryKind> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'link',
  'character-device': 'char',
  'block-device': 'block',
  fifo: 'fifo',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks one header and turns it into a {@link LayerEntry}. Names must have been decoded as latin1
 * (tar-stream `filenameEncoding: 'latin1'`), so their bytes are exact; they must be valid UTF-8.
 * `rawPax` holds the xattrs of the member's local PAX header read as bytes (tar-stream's `pax`
 * values were decoded as UTF-8 and are never used for xattrs).
 * @throws LKVOL_LAYER_CORRUPT for unknown types (GNU sparse `S`, vendor types), header-only types
 *   with data, sparse PAX records and malformed numbers.
 * @throws LKVOL_LAYER_UNSAFE_PATH for names that are not valid UTF-8 (two such names could otherwise
 *   collapse into one).
 */
export function normalizeEntry(h: RawHeader, layer: string, rawPax?: PaxXattrs): LayerEntry {
  const pax = paxRecords(h.pax);
  // tar-stream applies PAX `path`/`linkpath` only when non-empty; so must the test for where a name came from.
  const name = decodeName(h.name, Boolean(pax.path), layer, h.name);
  const kind = h.type == null ? undefined : kinds[h.type];
  if (kind === undefined) throw corrupt(layer, name, `unsupported entry type ${JSON.stringify(h.type ?? 'unknown typeflag')}`);
  const size = h.size ?? 0;
  if (kind !== 'file' && size !== 0) throw corrupt(layer, name, `${kind} entry carries ${size} data bytes (header-only type)`);
  if (Object.keys(pax).some((k) => k.startsWith('GNU.sparse.'))) throw corrupt(layer, name, 'sparse files are not supported');
  return {
    name,
    kind,
    size,
    mode: checkedInt(h.mode ?? 0, layer, name, 'mode') & 0o7777,
    uid: paxInt(pax.uid, h.uid ?? 0, layer, name, 'uid'),
    gid: paxInt(pax.gid, h.gid ?? 0, layer, name, 'gid'),
    mtime: paxTime(pax.mtime, h.mtime, layer, name),
    linkname: h.linkname == null ? '' : decodeName(h.linkname, Boolean(pax.linkpath), layer, name),
    xattrs: rawPax?.xattrs ?? [],
    foreignXattrs: rawPax?.foreign ?? 0,
    devmajor: kind === 'char' || kind === 'block' ? checkedInt(h.devmajor ?? 0, layer, name, 'devmajor') : 0,
    devminor: kind === 'char' || kind === 'block' ? checkedInt(h.devminor ?? 0, layer, name, 'devminor') : 0,
  };
}

function paxRecords(pax: unknown): Record<string, string> {
  return typeof pax === 'object' && pax !== null ? (pax as Record<string, string>) : {};
}

/**
 * A ustar or GNU long name arrives as latin1 and is re-read as strict UTF-8. A PAX value was
 * already decoded as UTF-8 by tar-stream, which replaced invalid bytes by U+FFFD: refuse those.
 */
function decodeName(raw: string, fromPax: boolean, layer: string, entry: string): string {
  if (fromPax) {
    if (raw.includes('\uFFFD')) throw new UnsafePathError({ layer, entry, reason: 'PAX path is not valid UTF-8' });
    return raw;
  }
  try {
    return utf8.decode(Buffer.from(raw, 'latin1'));
  } catch {
    throw new UnsafePathError({ layer, entry: raw, reason: 'name is not valid UTF-8' });
  }
}

/** A PAX decimal record when present (it overrides the ustar field), else the ustar number. */
function paxInt(record: string | undefined, ustar: number, layer: string, entry: string, field: string): number {
  if (record === undefined) return checkedInt(ustar, layer, entry, field);
  if (!/^\d{1,10}$/.test(record)) throw corrupt(layer, entry, `PAX ${field} ${JSON.stringify(record)} is not a number`);
  return checkedInt(Number(record), layer, entry, field);
}

function checkedInt(n: number, layer: string, entry: string, field: string): number {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw corrupt(layer, entry, `invalid ${field} ${String(n)}`);
  return n;
}

/** PAX `mtime` (seconds, maybe fractional) or the ustar time; an unreadable ustar time becomes 0. */
function paxTime(record: string | undefined, ustar: Date | null | undefined, layer: string, entry: string): number {
  if (record !== undefined) {
    if (!/^-?\d{1,12}(\.\d{0,9})?$/.test(record)) throw corrupt(layer, entry, `PAX mtime ${JSON.stringify(record)} is not a time`);
    return Number(record);
  }
  const seconds = ustar == null ? 0 : ustar.getTime() / 1000;
  // containerd's boundTime: out-of-range times become the epoch rather than failing the layer.
  return Number.isFinite(seconds) ? seconds : 0;
}

function corrupt(layer: string, entry: string, why: string): LkvolError {
  return new LkvolError('LKVOL_LAYER_CORRUPT', `layer ${layer}: entry ${JSON.stringify(entry)}: ${why}`, {
    hint: 'the layer is not a well-formed OCI layer; rebuild the image',
  });
}
