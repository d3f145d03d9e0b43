// Writing the tar archives lkvol makes itself (POSIX ustar + PAX), streamed, byte for byte reproducible.
// Not tar-stream's pack: it cannot write a PAX value that is not UTF-8 (file capabilities are binary),
// turns mode 0 into 0644, and gives PAX headers no fixed name; archives here must be exact and stable.
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { typeflags } from './header.js';

/**
 * One member's header; numbers too large for ustar and names that are long or not ASCII go to PAX records, as Go's
 * archive/tar writes them.
 */
export interface TarWriteHeader {
  /** `/`-separated; a directory's ends in `/`. */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  /** Permission bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  /** Data bytes of a regular file; 0 otherwise. */
  size?: number;
  /** Target of a symlink or hardlink. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

/** One member and its data. */
export interface TarWriteEntry {
  header: TarWriteHeader;
  content?: string | Buffer;
}

/** A streaming tar writer: members are added one at a time, file bodies streamed, memory bounded. */
export interface TarWriter {
  /**
   * Adds a member. `body`: a regular file's data, exactly `header.size` bytes. `pax`: extra PAX records, values any
   * bytes (xattrs: `SCHILY.xattr.<name>`).
   */
  add(
    header: TarWriteHeader,
    body?: string | Buffer | Readable,
    pax?: readonly (readonly [string, Buffer])[],
  ): Promise<void>;
  /** Writes the end-of-archive marker (two zero blocks) and ends a stream sink. */
  finish(): Promise<void>;
}

const block = 512;
const typeflagOf: Record<TarWriteHeader['type'], string> = {
  file: typeflags.regular,
  link: typeflags.hardlink,
  symlink: typeflags.symlink,
  'character-device': typeflags.charDevice,
  'block-device': typeflags.blockDevice,
  directory: typeflags.directory,
  fifo: typeflags.fifo,
};

/** The archive of `entries`, in order, in memory: for archives of a few KiB (see lib/build/skeleton.ts). */
export async function packTar(entries: readonly TarWriteEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const tar = createTarWriter({ write: (c: Buffer) => void chunks.push(c) });
  for (const e of entries) await tar.add(e.header, e.content);
  await tar.finish();
  return Buffer.concat(chunks);
}

/**
 * Writes to `sink`: a Writable (its back-pressure is honoured, and it is ended by `finish`) or anything with `write`.
 */
export function createTarWriter(sink: Writable | { write(chunk: Buffer): void }): TarWriter {
  const stream = 'once' in sink ? (sink as Writable) : undefined;
  // One listener for the stream's whole life: an error between two waits for 'drain' (a write that did not push back
  // fails later) must not go unhandled, which would end the process. The next call throws it.
  let failed: Error | undefined;
  stream?.on('error', (err: Error) => {
    failed ??= err;
  });
  const put = async (chunk: Buffer): Promise<void> => {
    if (chunk.length === 0) return;
    if (stream === undefined) return void sink.write(chunk);
    if (failed !== undefined) throw failed;
    // once() rejects on 'error' while it waits, and removes its listeners when it settles.
    if (!stream.write(chunk)) await once(stream, 'drain');
  };
  return {
    async add(header, body, pax = []) {
      const size =
        header.type === 'file'
          ? (header.size ??
            (typeof body === 'string' ? Buffer.byteLength(body) : Buffer.isBuffer(body) ? body.length : 0))
          : 0;
      const records = paxRecords(header, size, pax);
      if (records.length > 0) {
        const data = encodePax(records);
        await put(
          encodeHeader({
            name: `PaxHeaders.0/${standIn(header.name)}`.slice(0, 100),
            type: 'x',
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 0,
            size: data.length,
          }),
        );
        await put(Buffer.concat([data, padding(data.length)]));
      }
      await put(
        encodeHeader({
          ...header,
          name: standIn(header.name),
          linkname: standIn(header.linkname ?? ''),
          type: typeflagOf[header.type],
          size,
        }),
      );
      if (size === 0) return;
      let written = 0;
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        const data = Buffer.from(body);
        written = data.length;
        await put(data);
      } else if (body !== undefined) {
        for await (const chunk of body) {
          written += (chunk as Buffer).length;
          if (written > size) break;
          await put(chunk as Buffer);
        }
      }
      if (written !== size)
        throw new Error(`tar member ${header.name}: ${written} bytes of data for a size of ${size}`);
      await put(padding(size));
    },
    async finish() {
      await put(Buffer.alloc(2 * block));
      if (stream !== undefined) {
        if (failed !== undefined) throw failed;
        stream.end();
        await once(stream, 'finish');
      }
    },
  };
}

/**
 * What ustar cannot hold goes to PAX: a long or non-ASCII name or link target, an id or size or time out of its octal
 * range; then the caller's records.
 */
function paxRecords(
  h: TarWriteHeader,
  size: number,
  extra: readonly (readonly [string, Buffer])[],
): (readonly [string, Buffer])[] {
  const records: (readonly [string, Buffer])[] = [];
  if (!fitsUstar(h.name)) records.push(['path', Buffer.from(h.name)]);
  if (h.linkname !== undefined && !fitsUstar(h.linkname)) records.push(['linkpath', Buffer.from(h.linkname)]);
  if (size > 0o77777777777) records.push(['size', Buffer.from(String(size))]);
  if (h.uid > 0o7777777) records.push(['uid', Buffer.from(String(h.uid))]);
  if (h.gid > 0o7777777) records.push(['gid', Buffer.from(String(h.gid))]);
  if (h.mtime < 0 || h.mtime > 0o77777777777) records.push(['mtime', Buffer.from(String(h.mtime))]);
  return [...records, ...extra];
}

function fitsUstar(name: string): boolean {
  return Buffer.byteLength(name) <= 100 && /^[\x01-\x7f]*$/.test(name);
}

/** The ustar field of a name PAX holds: printable ASCII, at most 100 bytes (readers take the PAX path). */
function standIn(name: string): string {
  return fitsUstar(name) ? name : name.replace(/[^\x20-\x7e]/g, '_').slice(0, 100);
}

/** A ustar header block (POSIX.1-1988 fields, `ustar\0` `00`), numbers in octal, with its checksum. */
function encodeHeader(h: {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}): Buffer {
  const b = Buffer.alloc(block);
  const octal = (value: number, at: number, width: number): void => {
    const clamped = value < 0 || value >= 8 ** (width - 1) ? 0 : value; // out of range: PAX carries it
    b.write(clamped.toString(8).padStart(width - 1, '0'), at, width - 1, 'ascii');
  };
  b.write(h.name, 0, 100, 'latin1');
  octal(h.mode & 0o7777, 100, 8);
  octal(h.uid, 108, 8);
  octal(h.gid, 116, 8);
  octal(h.size, 124, 12);
  octal(h.mtime, 136, 12);
  b.write(h.type, 156, 1, 'ascii');
  b.write(h.linkname ?? '', 157, 100, 'latin1');
  b.write('ustar\x0000', 257, 8, 'latin1');
  octal(h.devmajor ?? 0, 329, 8);
  octal(h.devminor ?? 0, 337, 8);
  b.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

/** PAX records `<len> <key>=<value>\n`, where `len` counts its own digits; values are raw bytes. */
function encodePax(records: readonly (readonly [string, Buffer])[]): Buffer {
  return Buffer.concat(
    records.map(([key, value]) => {
      const rest = Buffer.byteLength(` ${key}=`) + value.length + 1;
      let len = rest + String(rest).length;
      if (String(len).length !== String(rest).length) len = rest + String(len).length;
      return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
    }),
  );
}

function padding(size: number): Buffer {
  return Buffer.alloc((block - (size % block)) % block);
}
