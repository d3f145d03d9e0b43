// PAX extended headers read as bytes, as strictly as Go's archive/tar (parsePAX, mergePAX).

/** One extended attribute as archived: its name and its value, byte for byte. */
export interface Xattr {
  name: string;
  value: Buffer;
}

/** The xattr records of one member's local PAX header. */
export interface PaxXattrs {
  /** `SCHILY.xattr.<name>` records (what Go's archive/tar, containerd and umoci read), in archive order. */
  xattrs: Xattr[];
  /** `LIBARCHIVE.xattr.*` records: Go-based tools ignore them, and so does lkvol (with a warning). */
  foreign: number;
}

/** Records of one PAX header by key (latin1); values are raw bytes. */
export type PaxRecords = ReadonlyMap<string, Buffer>;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const schily = 'SCHILY.xattr.';
const libarchive = 'LIBARCHIVE.xattr.';
/** Keys whose values are strings in Go and may not hold NUL (validPAXRecord). */
const stringKeys = new Set(['path', 'linkpath', 'uname', 'gname']);

/**
 * Splits a PAX payload into records `"<len> <key>=<value>\n"` without decoding values, exactly as
 * Go's parsePAXRecord: the length counts the whole record, the record ends in a newline, the key is
 * not empty and holds no NUL, and path-like values hold no NUL. A later record with the same key
 * replaces an earlier one.
 * @throws Error (the caller reports it as a corrupt layer) for a malformed record.
 */
export function parsePaxRecords(payload: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let at = 0;
  while (at < payload.length) {
    const rest = payload.subarray(at);
    const space = rest.indexOf(0x20);
    const digits = space === -1 ? '' : rest.toString('latin1', 0, space);
    const len = /^[+-]?\d+$/.test(digits) ? Number(digits) : NaN;
    if (!(len >= 5 && len <= rest.length && len > space + 1) || rest[len - 1] !== 0x0a)
      throw new Error(`malformed PAX record at byte ${at} of the PAX header`);
    const record = rest.subarray(space + 1, len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw new Error(`PAX record without "=" at byte ${at} of the PAX header`);
    const key = record.toString('latin1', 0, eq);
    const value = record.subarray(eq + 1);
    if (key === '' || (stringKeys.has(key) ? value.includes(0) : key.includes('\0')))
      throw new Error(`invalid PAX record ${JSON.stringify(key)} at byte ${at} of the PAX header`);
    records.set(key, value);
    at += len;
  }
  return records;
}

/**
 * Go's strconv.ParseInt(s, 10, 64) for PAX `uid`, `gid` and `size`: an optional sign and decimal
 * digits. Returns undefined where Go fails, and beyond 2^53 (no real id or size is that large).
 */
export function parsePaxInt(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Go's parsePAXTime for `mtime`, `atime`, `ctime`: signed whole seconds, optionally `.` and digits
 * (nanoseconds, extra digits truncated). Returns seconds as a (fractional) number, undefined where Go fails.
 */
export function parsePaxTime(s: string): number | undefined {
  const dot = s.indexOf('.');
  const secs = parsePaxInt(dot === -1 ? s : s.slice(0, dot));
  if (secs === undefined) return undefined;
  if (dot === -1) return secs;
  const frac = s.slice(dot + 1);
  if (!/^\d*$/.test(frac)) return undefined;
  const nanos = Number(frac.slice(0, 9).padEnd(9, '0')) / 1e9;
  return s.startsWith('-') ? secs - nanos : secs + nanos;
}

/**
 * The xattrs of a parsed PAX header. Names must be UTF-8 (they are file-system strings).
 * @throws Error (reported as a corrupt layer) for a name that is not UTF-8 or empty.
 */
export function paxXattrs(records: PaxRecords): PaxXattrs {
  const out: PaxXattrs = { xattrs: [], foreign: 0 };
  for (const [key, value] of records) {
    if (key.startsWith(libarchive)) out.foreign++;
    if (!key.startsWith(schily)) continue;
    out.xattrs.push({ name: decodeXattrName(key.slice(schily.length)), value: Buffer.from(value) });
  }
  return out;
}

function decodeXattrName(latin1: string): string {
  if (latin1 === '') throw new Error('PAX xattr record without a name');
  try {
    return utf8.decode(Buffer.from(latin1, 'latin1'));
  } catch {
    throw new Error(`PAX xattr name ${JSON.stringify(latin1)} is not UTF-8`);
  }
}
