// Cuts the tar stream at its first end-of-archive marker and swallows the rest (still hashed upstream).
import { Transform, type TransformCallback } from 'node:stream';
import { LkvolError } from '../errors.js';
import { parsePaxRecords, paxXattrs, type PaxXattrs } from './pax.js';

const block = 512;
/** tar-stream refuses longer PAX/GNU long headers; collecting more would only cost memory. */
const maxLongHeader = 4 * 1024 * 1024;

/** The stream from {@link createEndOfArchiveCut}, with what it saw. */
export interface EndOfArchiveCut extends Transform {
  /** True once the end-of-archive marker was seen. */
  readonly ended: boolean;
  /** Bytes after the marker that were not NUL (ignored; a sign of a smuggled entry). */
  readonly trailingDataBytes: number;
}

interface Framing {
  header: Buffer[];
  headerLength: number;
  /** Data bytes (padding included) of the current member still to pass. */
  remaining: number;
  /** Collected data of a PAX header whose `size` record matters to the next member. */
  pax: Buffer[] | undefined;
  /** Size of that PAX payload (the data collected also holds the block padding). */
  paxLength: number;
  paxKind: 'local' | 'global' | undefined;
  localSize: string | undefined;
  globalSize: string | undefined;
  /** Xattrs of the pending local PAX header (global headers carry none: Go ignores their records). */
  localXattrs: PaxXattrs | undefined;
  layer: string;
  onMember: ((pax: PaxXattrs | undefined) => void) | undefined;
}

/** Options of {@link createEndOfArchiveCut}. */
export interface EndOfArchiveOptions {
  /**
   * Called, in archive order, for every member tar-stream will emit as an entry, with the xattrs of
   * its local PAX header read as bytes (undefined without one). Called before tar-stream sees the member.
   */
  onMember?: (pax: PaxXattrs | undefined) => void;
}

/**
 * Go's archive/tar (containerd, umoci, ggcr) stops at the first all-zero header block; tar-stream
 * skips zero blocks and keeps parsing, so an entry placed after the marker would be seen by lkvol
 * only. This Transform walks the member framing exactly as tar-stream does (size field, PAX `size`,
 * directories carrying no data) and passes nothing after the first header block tar-stream would
 * treat as empty. The rest of the input is still read, so upstream digest checks reach EOF.
 * @throws LKVOL_LAYER_CORRUPT (as a stream error) for negative or non-numeric sizes and malformed PAX records.
 */
export function createEndOfArchiveCut(layer: string, opts: EndOfArchiveOptions = {}): EndOfArchiveCut {
  const f: Framing = { header: [], headerLength: 0, remaining: 0, pax: undefined, paxLength: 0, paxKind: undefined, localSize: undefined, globalSize: undefined, localXattrs: undefined, layer, onMember: opts.onMember };
  let ended = false;
  let trailingDataBytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (ended) {
        trailingDataBytes += countNonZero(chunk);
        cb();
        return;
      }
      try {
        const { pass, rest } = frame(f, chunk, layer);
        if (rest !== undefined) {
          ended = true;
          trailingDataBytes += countNonZero(rest);
        }
        cb(null, pass);
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  Object.defineProperties(stream, { ended: { get: () => ended }, trailingDataBytes: { get: () => trailingDataBytes } });
  return stream as EndOfArchiveCut;
}

/**
 * Consumes one chunk. Data passes at once; header bytes are held until their block is complete, so
 * nothing of the end marker (or after it) ever reaches tar-stream. `rest` is set once the marker is found.
 */
function frame(f: Framing, chunk: Buffer, layer: string): { pass: Buffer; rest?: Buffer } {
  const out: Buffer[] = [];
  let at = 0;
  while (at < chunk.length) {
    if (f.remaining > 0) {
      const n = Math.min(f.remaining, chunk.length - at);
      const data = chunk.subarray(at, at + n);
      if (f.pax !== undefined) f.pax.push(data);
      out.push(data);
      f.remaining -= n;
      at += n;
      if (f.remaining === 0 && f.pax !== undefined) finishPax(f);
      continue;
    }
    const n = Math.min(block - f.headerLength, chunk.length - at);
    f.header.push(chunk.subarray(at, at + n));
    f.headerLength += n;
    at += n;
    if (f.headerLength < block) continue;
    const header = Buffer.concat(f.header);
    f.header = [];
    f.headerLength = 0;
    if (isEmptyHeader(header)) return { pass: Buffer.concat(out), rest: Buffer.concat([header, chunk.subarray(at)]) };
    out.push(header);
    startMember(f, header, layer);
  }
  return { pass: Buffer.concat(out) };
}

/** Sets up the data that follows a header, mirroring tar-stream's `_consumeHeader`. */
function startMember(f: Framing, header: Buffer, layer: string): void {
  const typeflag = header[156] === 0 ? 0 : header[156]! - 0x30;
  let size = decodeSize(header.subarray(124, 136));
  const isLong = typeflag === 72 || typeflag === 55 || typeflag === 27 || typeflag === 28 || typeflag === 30;
  if (isLong) {
    if (!(size >= 0) || size > maxLongHeader) throw corrupt(layer, `PAX or GNU long header of ${size} bytes`);
    f.paxKind = typeflag === 72 ? 'local' : typeflag === 55 ? 'global' : undefined;
    f.pax = f.paxKind === undefined ? undefined : [];
    f.paxLength = size;
    f.remaining = padded(size);
    if (f.pax !== undefined && size === 0) finishPax(f);
    return;
  }
  // tar-stream applies a PAX `size` only from a local PAX header (merged over the global one).
  const paxSize = f.localSize;
  f.localSize = undefined;
  if (paxSize) size = parseInt(paxSize, 10);
  if (!(size >= 0)) throw corrupt(layer, `entry size ${String(paxSize ?? size)} is not a non-negative number`);
  const xattrs = f.localXattrs;
  f.localXattrs = undefined;
  f.onMember?.(xattrs);
  f.remaining = isDirectory(typeflag, header) ? 0 : padded(size);
}

function finishPax(f: Framing): void {
  let records: Map<string, Buffer>;
  try {
    records = parsePaxRecords(Buffer.concat(f.pax ?? []).subarray(0, f.paxLength));
  } catch (err) {
    throw corrupt(f.layer, (err as Error).message);
  }
  const size = records.get('size')?.toString('latin1');
  // A global header replaces the previous one; a local one is merged over the global one (tar-stream).
  if (f.paxKind === 'global') {
    f.globalSize = size;
  } else {
    f.localSize = size ?? f.globalSize;
    f.localXattrs = readXattrs(f.layer, records);
  }
  f.pax = undefined;
  f.paxKind = undefined;
}

function readXattrs(layer: string, records: ReadonlyMap<string, Buffer>): PaxXattrs {
  try {
    return paxXattrs(records);
  } catch (err) {
    throw corrupt(layer, (err as Error).message);
  }
}

/** tar-stream's null-header test: the checksum of the block equals that of an all-zero block. */
function isEmptyHeader(header: Buffer): boolean {
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += header[i]!;
  for (let i = 156; i < block; i++) sum += header[i]!;
  return sum === 8 * 32;
}

/** tar-stream turns a regular entry whose name ends in `/` into a directory, which carries no data. */
function isDirectory(typeflag: number, header: Buffer): boolean {
  if (typeflag === 5) return true;
  if (typeflag !== 0) return false;
  const nameEnd = header.subarray(0, 100).indexOf(0);
  const name = header.subarray(0, nameEnd === -1 ? 100 : nameEnd);
  const ustar = header.subarray(257, 263).equals(Buffer.from('ustar\0', 'latin1'));
  if (ustar && header[345] !== 0) return name.length === 0 || name[name.length - 1] === 0x2f;
  return name.length > 0 && name[name.length - 1] === 0x2f;
}

/** Octal or base-256 size, as tar-stream's `decodeOct` reads it. */
function decodeSize(field: Buffer): number {
  if ((field[0]! & 0x80) !== 0) {
    if (field[0] !== 0x80 && field[0] !== 0xff) return NaN;
    let sum = 0;
    for (let i = 1; i < field.length; i++) sum = sum * 256 + (field[0] === 0x80 ? field[i]! : 0xff - field[i]!);
    return field[0] === 0x80 ? sum : -sum;
  }
  let start = 0;
  while (start < field.length && field[start] === 0x20) start++;
  let end = field.indexOf(0x20, start);
  if (end === -1) end = field.length;
  while (start < end && field[start] === 0) start++;
  return start === end ? 0 : parseInt(field.subarray(start, end).toString(), 8);
}

function padded(size: number): number {
  return Math.ceil(size / block) * block;
}

function countNonZero(buf: Buffer): number {
  let n = 0;
  for (const b of buf) if (b !== 0) n++;
  return n;
}

function corrupt(layer: string, what: string): LkvolError {
  return new LkvolError('LKVOL_LAYER_CORRUPT', `layer ${layer}: invalid tar header: ${what}`, { hint: 'the layer is not a well-formed tar archive; rebuild the image' });
}
