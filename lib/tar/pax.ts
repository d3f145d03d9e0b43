// PAX extended headers read as bytes: tar-stream decodes values as UTF-8, which corrupts binary xattrs.

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

const utf8 = new TextDecoder('utf-8', { fatal: true });
const schily = 'SCHILY.xattr.';
const libarchive = 'LIBARCHIVE.xattr.';

/**
 * Splits a PAX payload into records `"<len> <key>=<value>\n"` without decoding values. Parsed as
 * strictly as Go's archive/tar: a record whose length, separator or final newline is wrong is an error.
 * A later record with the same key replaces an earlier one.
 * @throws Error (the caller wraps it as LKVOL_LAYER_CORRUPT) for a malformed record.
 */
export function parsePaxRecords(payload: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let buf = payload;
  while (buf.length > 0) {
    const space = buf.indexOf(0x20);
    const digits = space > 0 && space <= 10 ? buf.subarray(0, space).toString('latin1') : '';
    const len = /^[1-9]\d*$/.test(digits) ? Number(digits) : NaN;
    if (!(len > space + 1 && len <= buf.length) || buf[len - 1] !== 0x0a) throw new Error(`malformed PAX record at byte ${payload.length - buf.length}`);
    const record = buf.subarray(space + 1, len - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new Error(`PAX record without a key at byte ${payload.length - buf.length}`);
    records.set(record.subarray(0, eq).toString('latin1'), record.subarray(eq + 1));
    buf = buf.subarray(len);
  }
  return records;
}

/**
 * The xattrs of a parsed PAX header. Names must be UTF-8 (they are file-system strings).
 * @throws Error (wrapped as LKVOL_LAYER_CORRUPT) for a name that is not UTF-8 or empty.
 */
export function paxXattrs(records: ReadonlyMap<string, Buffer>): PaxXattrs {
  const out: PaxXattrs = { xattrs: [], foreign: 0 };
  for (const [key, value] of records) {
    if (key.startsWith(libarchive)) out.foreign++;
    if (!key.startsWith(schily)) continue;
    const name = decodeName(key.slice(schily.length));
    out.xattrs.push({ name, value: Buffer.from(value) });
  }
  return out;
}

function decodeName(latin1: string): string {
  if (latin1 === '') throw new Error('PAX xattr record without a name');
  try {
    return utf8.decode(Buffer.from(latin1, 'latin1'));
  } catch {
    throw new Error(`PAX xattr name ${JSON.stringify(latin1)} is not UTF-8`);
  }
}
