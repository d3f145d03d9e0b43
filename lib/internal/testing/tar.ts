// Test helper: builds tar archives byte by byte, hostile ones included (bad sizes, unknown types, data after the end).
import { gzipSync } from 'node:zlib';

/** Entry types by name, or any raw typeflag character (e.g. `{ typeflag: 'S' }` for GNU sparse). */
export type TarType = 'file' | 'dir' | 'symlink' | 'link' | 'fifo' | 'char' | 'block' | { typeflag: string };

/** One archive member. Only `name` is required; defaults make a 0644 root-owned empty file. */
export interface TarEntry {
  /** Stored as given (a string is UTF-8 encoded; pass bytes for invalid UTF-8). Directories get a trailing `/`. */
  name: string | Uint8Array;
  /** Default `file`. */
  type?: TarType;
  /** Data of a file (and of any type, for hostile archives). */
  content?: string | Uint8Array;
  /** Permission bits; default 0644 (files), 0755 (dirs), 0777 (symlinks). 0 is kept. */
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch or a Date; default {@link defaultMtime}. */
  mtime?: number | Date;
  /** Symlink or hardlink target. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /**
   * Extra PAX records (e.g. `{ uid: '70000', mtime: '1.5', path: '../../x' }`), written in a PAX header before the
   * entry; values may be raw bytes.
   */
  pax?: Record<string, string | Uint8Array>;
  /** How names or link targets longer than ustar allows are stored: PAX records (default) or GNU `L`/`K` members. */
  longNames?: 'pax' | 'gnu';
  /** Size written in the header instead of the content length (hostile archives; negative uses base-256). */
  size?: number;
  /** GNU `L`/`K` members written before the entry whatever the name's length (e.g. beside a PAX `path`). */
  gnuLongName?: string | Uint8Array;
  gnuLongLink?: string | Uint8Array;
  /** Header magic: ustar (default, POSIX), gnu (`ustar  \0`), star (ustar with a `tar\0` trailer), v7 (none). */
  format?: 'ustar' | 'gnu' | 'star' | 'v7';
  /** Edits the entry's header block before its checksum is computed (raw fields for hostile archives). */
  patch?: (header: Buffer) => void;
}

/** Options of {@link buildTar}. */
export interface BuildTarOptions {
  /** Write the two zero blocks that end an archive (default true). */
  endMarker?: boolean;
  /** Bytes appended after the end marker, e.g. another archive smuggled behind it. */
  after?: Uint8Array;
}

/** The mtime of entries that set none: fixed, so archives are reproducible. */
export const defaultMtime = 1_700_000_000;

const block = 512;
const typeflags: Record<Exclude<TarType, { typeflag: string }>, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

/**
 * Builds a POSIX (ustar + PAX) tar archive in memory. Unlike tar-stream's `pack`, every header field
 * is under the caller's control: mode 0, a size that lies, unknown typeflags, GNU long names, raw
 * name bytes, entries after the end-of-archive marker. Output is deterministic.
 */
export async function buildTar(entries: readonly TarEntry[], opts: BuildTarOptions = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const e of entries) parts.push(...encodeEntry(e));
  if (opts.endMarker ?? true) parts.push(Buffer.alloc(2 * block));
  if (opts.after !== undefined) parts.push(Buffer.from(opts.after));
  return Buffer.concat(parts);
}

/** Gzip-compresses a buffer (a layer blob as registries serve it). */
export function gzip(buf: Uint8Array): Buffer {
  return gzipSync(buf);
}

function encodeEntry(e: TarEntry): Buffer[] {
  const type = e.type ?? 'file';
  const typeflag = typeof type === 'string' ? typeflags[type] : type.typeflag;
  let name = typeof e.name === 'string' ? Buffer.from(e.name) : Buffer.from(e.name);
  if (type === 'dir' && name[name.length - 1] !== 0x2f) name = Buffer.concat([name, Buffer.from('/')]);
  const linkname = Buffer.from(e.linkname ?? '');
  const content = typeof e.content === 'string' ? Buffer.from(e.content) : Buffer.from(e.content ?? []);
  const out: Buffer[] = [];
  const pax: Record<string, string | Uint8Array> = { ...e.pax };
  const split = splitName(name);
  const gnu = e.longNames === 'gnu';
  if (e.gnuLongName !== undefined) out.push(...longMember('L', e.gnuLongName));
  if (e.gnuLongLink !== undefined) out.push(...longMember('K', e.gnuLongLink));
  if (split === undefined && gnu)
    out.push(...member(longHeader('L', name.length + 1), Buffer.concat([name, Buffer.alloc(1)])));
  if (split === undefined && !gnu) pax['path'] = name.toString();
  if (linkname.length > 100 && gnu)
    out.push(...member(longHeader('K', linkname.length + 1), Buffer.concat([linkname, Buffer.alloc(1)])));
  if (linkname.length > 100 && !gnu) pax['linkpath'] = linkname.toString();
  if (Object.keys(pax).length > 0) {
    const records = encodePax(pax);
    out.push(
      ...member(header({ name: Buffer.from('PaxHeader'), typeflag: 'x', size: records.length, mode: 0o644 }), records),
    );
  }
  const h = header({
    name: split?.name ?? name.subarray(0, 100),
    prefix: split?.prefix,
    typeflag,
    size: e.size ?? content.length,
    mode: e.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
    uid: e.uid,
    gid: e.gid,
    mtime: e.mtime instanceof Date ? Math.floor(e.mtime.getTime() / 1000) : (e.mtime ?? defaultMtime),
    linkname: linkname.subarray(0, 100),
    uname: e.uname ?? 'root',
    gname: e.gname ?? 'root',
    devmajor: e.devmajor,
    devminor: e.devminor,
    format: e.format,
    patch: e.patch,
  });
  out.push(...member(h, content));
  return out;
}

/** A header block followed by its data padded to whole blocks. */
function member(h: Buffer, data: Buffer): Buffer[] {
  const pad = (block - (data.length % block)) % block;
  return [h, data, Buffer.alloc(pad)];
}

function longMember(typeflag: 'L' | 'K', name: string | Uint8Array): Buffer[] {
  const bytes = Buffer.concat([Buffer.from(name), Buffer.alloc(1)]);
  return member(longHeader(typeflag, bytes.length), bytes);
}

function longHeader(typeflag: string, size: number): Buffer {
  return header({ name: Buffer.from('././@LongLink'), typeflag, size, mode: 0o644 });
}

/** ustar splits a long name at a `/` into prefix (≤155 bytes) and name (≤100 bytes). */
function splitName(name: Buffer): { name: Buffer; prefix?: Buffer } | undefined {
  if (name.length <= 100) return { name };
  for (let i = name.indexOf(0x2f); i !== -1; i = name.indexOf(0x2f, i + 1)) {
    if (i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0)
      return { name: name.subarray(i + 1), prefix: name.subarray(0, i) };
  }
  return undefined;
}

interface HeaderFields {
  name: Buffer;
  prefix?: Buffer | undefined;
  typeflag: string;
  size: number;
  mode: number;
  uid?: number | undefined;
  gid?: number | undefined;
  mtime?: number | undefined;
  linkname?: Buffer | undefined;
  uname?: string | undefined;
  gname?: string | undefined;
  devmajor?: number | undefined;
  devminor?: number | undefined;
  format?: 'ustar' | 'gnu' | 'star' | 'v7' | undefined;
  patch?: ((header: Buffer) => void) | undefined;
}

function header(f: HeaderFields): Buffer {
  const h = Buffer.alloc(block);
  f.name.copy(h, 0);
  writeNumber(h, 100, 8, f.mode);
  writeNumber(h, 108, 8, f.uid ?? 0);
  writeNumber(h, 116, 8, f.gid ?? 0);
  writeNumber(h, 124, 12, f.size);
  writeNumber(h, 136, 12, f.mtime ?? defaultMtime);
  h.write(f.typeflag, 156, 1, 'latin1');
  f.linkname?.copy(h, 157);
  const format = f.format ?? 'ustar';
  if (format !== 'v7') {
    h.write(format === 'gnu' ? 'ustar  \0' : 'ustar\x0000', 257, 'latin1');
    h.write(f.uname ?? '', 265, 32);
    h.write(f.gname ?? '', 297, 32);
    writeNumber(h, 329, 8, f.devmajor ?? 0);
    writeNumber(h, 337, 8, f.devminor ?? 0);
    if (format !== 'gnu') f.prefix?.copy(h, 345);
    if (format === 'star') h.write('tar\0', 508, 'latin1');
  }
  f.patch?.(h);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

/** Octal with a NUL terminator when it fits, else base-256 (GNU), two's complement when negative. */
function writeNumber(h: Buffer, offset: number, length: number, value: number): void {
  const octal = value >= 0 ? value.toString(8) : '';
  if (value >= 0 && octal.length < length) {
    h.write(octal.padStart(length - 1, '0') + '\0', offset, 'latin1');
    return;
  }
  let v = BigInt(value);
  if (v < 0n) v += 1n << BigInt(8 * (length - 1));
  for (let i = length - 1; i > 0; i--, v >>= 8n) h[offset + i] = Number(v & 0xffn);
  h[offset] = value < 0 ? 0xff : 0x80;
}

/** PAX records `"<len> <key>=<value>\n"`, where len counts the whole record including itself. */
export function encodePax(records: Record<string, string | Uint8Array>): Buffer {
  const out: Buffer[] = [];
  for (const [key, value] of Object.entries(records)) {
    const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
    let length = body.length + String(body.length).length;
    if (String(length).length !== String(body.length).length) length = body.length + String(length).length;
    out.push(Buffer.from(String(length)), body);
  }
  return Buffer.concat(out);
}
