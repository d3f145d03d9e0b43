// Tar framing as Go's archive/tar reads it (Reader.next), refusing bytes that other readers read differently.
import {
  blockSize,
  cString,
  decodeHeader,
  HeaderError,
  isRegularTypeflag,
  isZeroBlock,
  typeflags,
  type BlockHeader,
} from './header.js';
import { parsePaxInt, parsePaxRecords, parsePaxTime, type PaxRecords } from './pax.js';

/**
 * One archive member as Go returns it from `Next()`: the header's fields with meta headers applied.
 * `typeflag` has the legacy NUL type converted (`'0'`, or `'5'` when the name ends in `/`; other
 * types are passed on for the caller to accept or refuse); `name` and `linkname` are latin1 bytes
 * from the PAX `path`/`linkpath`, the GNU long name, or the header; `size` is what the body yields
 * (0 for header-only types); `mtime` may be fractional (PAX).
 */
export interface TarHeader extends BlockHeader {
  /** Records of the member's local PAX header (empty without one), values as bytes. */
  pax: PaxRecords;
  /** Offset of the member's first header block (its PAX or GNU header, if any) in the tar stream. */
  offset: number;
  /** Offset of the member's first data byte (right after its own header block). */
  dataOffset: number;
}

/** A member and its data. Read the body before asking for the next member, or leave it: the rest is skipped. */
export interface TarMember {
  header: TarHeader;
  /** Exactly `header.size` bytes, in chunks that are only valid until the next one is requested. */
  body: AsyncIterable<Buffer>;
}

/** Where and why the archive cannot be read (or could be read two ways); the caller names the layer. */
export class TarFormatError extends Error {
  constructor(
    readonly offset: number,
    readonly entry: string | undefined,
    readonly reason: string,
  ) {
    super(`${entry === undefined ? '' : `entry ${JSON.stringify(entry)}: `}${reason} (tar offset ${offset})`);
    this.name = 'TarFormatError';
  }
}

/** Go's maxSpecialFileSize: PAX and GNU long-name payloads above 1 MiB are refused. */
const maxSpecialFileSize = 1024 * 1024;
/** Typeflags whose size Go ignores: no data follows their header. */
const headerOnly = new Set<string>([
  typeflags.hardlink,
  typeflags.symlink,
  typeflags.charDevice,
  typeflags.blockDevice,
  typeflags.directory,
  typeflags.fifo,
]);

/** Data of the current member not yet read, and whose it is (undefined for meta headers). */
interface DataLeft {
  remaining: number;
  entry: string | undefined;
}

/** Meta headers seen since the last member: they apply to the next member only. */
interface Pending {
  offset: number | undefined;
  pax: Map<string, Buffer> | undefined;
  longName: string | undefined;
  longLink: string | undefined;
}

function noPending(): Pending {
  return { offset: undefined, pax: undefined, longName: undefined, longLink: undefined };
}

/**
 * Reads a tar stream member by member. The framing (where each header and its data lie, names,
 * sizes) is Go's, header for header; where Go's reading is one of two that widespread readers
 * disagree on, the archive is refused (see lib/tar/README.md). After the end-of-archive marker the
 * rest of the stream is read to its end (so upstream hashes cover it) and counted, never parsed.
 */
export class TarReader {
  /** Non-NUL bytes after the end-of-archive marker (a sign of a smuggled archive). */
  trailingDataBytes = 0;
  /** Global PAX headers met and ignored (containerd and moby ignore them; Go returns them as entries). */
  globalHeaders = 0;

  readonly #source: AsyncIterator<Uint8Array>;
  #chunk: Buffer = Buffer.alloc(0);
  #pos = 0;
  /** Stream offset of `#chunk[#pos]`. */
  #offset = 0;
  #lastEntry: string | undefined;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  /**
   * The members in archive order.
   * @throws TarFormatError for a header Go refuses, a truncated archive, or an ambiguous reading.
   */
  async *members(): AsyncGenerator<TarMember, void, undefined> {
    let pending = noPending();
    for (;;) {
      const offset = this.#offset;
      const block = await this.#readBlock();
      if (block === undefined) return; // Go: a stream that ends at a header boundary ends the archive.
      if (isZeroBlock(block)) return this.#finish(offset);
      const h = this.#decode(block, offset);
      pending.offset ??= offset;
      switch (h.typeflag) {
        case typeflags.paxHeader:
          if (pending.pax !== undefined)
            throw this.#error(offset, 'two PAX headers for one entry (readers disagree on which applies)');
          pending.pax = await this.#parseLocalPax(await this.#readSpecial(h, offset), offset);
          continue;
        case typeflags.paxGlobal:
          // NB: Go returns a global header as an entry and forgets pending meta headers, which
          // other readers keep for the next entry: refuse that mix. The records apply to nothing.
          if (pending.pax !== undefined || pending.longName !== undefined || pending.longLink !== undefined) {
            throw this.#error(offset, 'global PAX header between an extended header and its entry');
          }
          this.#parsePax(await this.#readSpecial(h, offset), offset);
          this.globalHeaders++;
          pending.offset = undefined;
          continue;
        case typeflags.gnuLongName:
        case typeflags.gnuLongLink: {
          const key = h.typeflag === typeflags.gnuLongName ? 'longName' : 'longLink';
          if (pending[key] !== undefined)
            throw this.#error(offset, `two GNU long ${key === 'longName' ? 'names' : 'link names'} for one entry`);
          const payload = await this.#readSpecial(h, offset);
          const nul = payload.indexOf(0);
          pending[key] = payload.toString('latin1', 0, nul === -1 ? payload.length : nul);
          continue;
        }
      }
      const header = this.#merge(h, pending);
      pending = noPending();
      this.#lastEntry = header.name;
      const state = { remaining: header.size, entry: header.name };
      yield { header, body: this.#body(state) };
      await this.#skip(state);
      await this.#skipPadding(header.size);
    }
  }

  /** Go's mergePAX, GNU long names and the NUL-type conversion; refuses the ambiguous combinations. */
  #merge(h: BlockHeader, pending: Pending): TarHeader {
    const offset = pending.offset ?? this.#offset - blockSize;
    // Go checks the raw header's size before merging anything (handleRegularFile).
    if (h.size < 0 && !headerOnly.has(h.typeflag)) throw this.#error(offset, `negative size ${h.size}`, h.name);
    const pax = pending.pax ?? new Map<string, Buffer>();
    const text = (key: string) => {
      const v = pax.get(key);
      return v === undefined || v.length === 0 ? undefined : v.toString('latin1');
    };
    let name = text('path') ?? h.name;
    let linkname = text('linkpath') ?? h.linkname;
    const fail = (why: string) => this.#error(offset, why, name);
    // Go lets a GNU long name override a PAX path; tar-stream and others do the reverse.
    if (pending.longName !== undefined && pending.longName !== '') {
      if (text('path') !== undefined && text('path') !== pending.longName)
        throw fail('GNU long name and PAX path disagree');
      name = pending.longName;
    }
    if (pending.longLink !== undefined && pending.longLink !== '') {
      if (text('linkpath') !== undefined && text('linkpath') !== pending.longLink)
        throw fail('GNU long link name and PAX linkpath disagree');
      linkname = pending.longLink;
    }
    const number = (key: string, ustar: number, parse: (s: string) => number | undefined) => {
      const v = text(key);
      if (v === undefined) return ustar;
      const n = parse(v);
      if (n === undefined) throw fail(`PAX ${key} ${JSON.stringify(v)} is not a number`);
      return n;
    };
    for (const key of ['atime', 'ctime']) number(key, 0, parsePaxTime);
    const size = number('size', h.size, parsePaxInt);
    let typeflag = h.typeflag;
    if (typeflag === typeflags.legacyRegular) typeflag = name.endsWith('/') ? typeflags.directory : typeflags.regular;
    else if (isRegularTypeflag(typeflag) && name.endsWith('/'))
      throw fail('regular file whose name ends in "/" (other readers make it a directory)');
    if (headerOnly.has(typeflag)) {
      // Go reads the next header right after this one; tar-stream and GNU tar skip `size` bytes first.
      if (size !== 0)
        throw fail(`header-only entry (typeflag ${JSON.stringify(typeflag)}) declares ${size} data bytes`);
    } else if (size < 0) {
      throw fail(`negative size ${size}`);
    }
    return {
      format: h.format,
      typeflag,
      name,
      linkname,
      size: headerOnly.has(typeflag) ? 0 : size,
      mode: h.mode,
      uid: number('uid', h.uid, parsePaxInt),
      gid: number('gid', h.gid, parsePaxInt),
      mtime: number('mtime', h.mtime, parsePaxTime),
      devmajor: h.devmajor,
      devminor: h.devminor,
      pax,
      offset,
      // #decode read the header block and nothing since: the data follows.
      dataOffset: this.#offset,
    };
  }

  #decode(block: Buffer, offset: number): BlockHeader {
    try {
      return decodeHeader(block);
    } catch (err) {
      if (err instanceof HeaderError) throw this.#error(offset, `invalid header: ${err.message}`);
      throw err;
    }
  }

  /** The payload of a PAX or GNU long-name header (Go's readSpecialFile), then its padding. */
  async #readSpecial(h: BlockHeader, offset: number): Promise<Buffer> {
    if (h.size < 0 || h.size > maxSpecialFileSize)
      throw this.#error(offset, `${h.typeflag} header of ${h.size} bytes (at most ${maxSpecialFileSize})`);
    const parts: Buffer[] = [];
    for await (const chunk of this.#body({ remaining: h.size, entry: undefined })) parts.push(Buffer.from(chunk));
    await this.#skipPadding(h.size);
    return Buffer.concat(parts);
  }

  #parsePax(payload: Buffer, offset: number, entry?: string): Map<string, Buffer> {
    try {
      return parsePaxRecords(payload);
    } catch (err) {
      throw this.#error(offset, (err as Error).message, entry);
    }
  }

  /** A local PAX header; when it is malformed, the error names the entry it belongs to (the next header's name). */
  async #parseLocalPax(payload: Buffer, offset: number): Promise<Map<string, Buffer>> {
    try {
      return parsePaxRecords(payload);
    } catch {
      const next = await this.#readBlock().catch(() => undefined);
      return this.#parsePax(
        payload,
        offset,
        next === undefined || isZeroBlock(next) ? undefined : cString(next, 0, 100),
      );
    }
  }

  async *#body(state: DataLeft): AsyncGenerator<Buffer, void, undefined> {
    while (state.remaining > 0) {
      if (!(await this.#fill())) throw this.#truncated(state);
      const n = Math.min(state.remaining, this.#chunk.length - this.#pos);
      const out = this.#chunk.subarray(this.#pos, this.#pos + n);
      this.#advance(n);
      state.remaining -= n;
      yield out;
    }
  }

  /** Skips what the consumer left of a member's data. */
  async #skip(state: DataLeft): Promise<void> {
    while (state.remaining > 0) {
      if (!(await this.#fill())) throw this.#truncated(state);
      const k = Math.min(state.remaining, this.#chunk.length - this.#pos);
      this.#advance(k);
      state.remaining -= k;
    }
  }

  #truncated(state: DataLeft): TarFormatError {
    return this.#error(this.#offset, `archive ends ${state.remaining} bytes before the end of the data`, state.entry);
  }

  /** Go tolerates an archive that ends inside the padding after the last data (tryReadFull). */
  async #skipPadding(size: number): Promise<void> {
    let left = (blockSize - (size % blockSize)) % blockSize;
    while (left > 0 && (await this.#fill())) {
      const k = Math.min(left, this.#chunk.length - this.#pos);
      this.#advance(k);
      left -= k;
    }
  }

  /**
   * After a zero block: a second zero block (or the end of the stream) ends the archive, and the
   * rest is counted and drained. Go refuses a header right after a single zero block.
   */
  async #finish(offset: number): Promise<void> {
    const second = await this.#readBlock();
    if (second !== undefined && !isZeroBlock(second))
      throw this.#error(offset + blockSize, 'a header follows a single zero block (an archive ends with two)');
    while (await this.#fill()) {
      const rest = this.#chunk.subarray(this.#pos);
      for (let i = 0; i < rest.length; i++) if (rest[i] !== 0) this.trailingDataBytes++;
      this.#advance(rest.length);
    }
  }

  /**
   * The next 512-byte block; undefined at a clean end of stream.
   * @throws TarFormatError when the stream ends inside a block.
   */
  async #readBlock(): Promise<Buffer | undefined> {
    if (!(await this.#fill())) return undefined;
    if (this.#chunk.length - this.#pos >= blockSize) {
      const b = this.#chunk.subarray(this.#pos, this.#pos + blockSize);
      this.#advance(blockSize);
      return b;
    }
    const start = this.#offset;
    const b = Buffer.alloc(blockSize);
    let got = 0;
    while (got < blockSize) {
      if (!(await this.#fill()))
        throw this.#error(start, `archive ends inside a header block (${got} of ${blockSize} bytes)`);
      const k = Math.min(blockSize - got, this.#chunk.length - this.#pos);
      this.#chunk.copy(b, got, this.#pos, this.#pos + k);
      this.#advance(k);
      got += k;
    }
    return b;
  }

  /** Makes sure unread bytes are at hand; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    while (this.#pos >= this.#chunk.length) {
      const next = await this.#source.next();
      if (next.done === true) return false;
      const v = next.value;
      this.#chunk = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      this.#pos = 0;
    }
    return true;
  }

  #advance(n: number): void {
    this.#pos += n;
    this.#offset += n;
  }

  /** An error at `offset`, naming the entry it concerns or, failing that, the last one read. */
  #error(offset: number, reason: string, entry?: string): TarFormatError {
    if (entry !== undefined || this.#lastEntry === undefined) return new TarFormatError(offset, entry, reason);
    return new TarFormatError(offset, undefined, `${reason}, after entry ${JSON.stringify(this.#lastEntry)}`);
  }
}
