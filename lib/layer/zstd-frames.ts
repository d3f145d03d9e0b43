// zstd frame walker: checks every frame header (window cap) before any decoder sees the frame's bytes.
import { Transform, type TransformCallback } from 'node:stream';
import { LkvolError } from '../errors.js';
import {
  blockMaxSize,
  frameHeaderSize,
  frameMagic,
  maxZstdWindow,
  parseFrameHeader,
  type FrameHeader,
} from './zstd-header.js';

/** What a walker needs to name the layer in its errors. */
export interface FrameGuardOptions {
  layer: string;
  /** Default {@link maxZstdWindow}. */
  maxWindow?: number | undefined;
}

/**
 * A Transform that passes a zstd stream through unchanged while walking its frames (zstd frames and
 * skippable frames, block by block), so that the header of every frame, not just the first, is
 * checked before it reaches the decoder. It never decodes and holds back at most one header.
 * @throws LKVOL_LAYER_LIMIT for a frame whose window or single-segment content size exceeds the cap.
 * @throws LKVOL_LAYER_CORRUPT for bytes that are not a zstd frame, reserved bits, dictionaries
 *   (OCI layers cannot carry one), oversized blocks, or a stream that ends inside a frame.
 */
export function createZstdFrameGuard(o: FrameGuardOptions): Transform {
  const walker = createFrameWalker(o);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        const out = walker.feed(chunk);
        callback(null, out.length === 0 ? undefined : Buffer.concat(out));
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        walker.end();
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}

type Field = 'magic' | 'frame' | 'skippable' | 'block';

/** Checks a zstd stream as it passes; see {@link createFrameWalker}. */
export interface FrameWalker {
  feed(chunk: Buffer): Buffer[];
  end(): void;
}

/**
 * The walker behind {@link createZstdFrameGuard}: `feed` returns the bytes checked so far (a header
 * split across chunks is held back until it is whole and checked); `end` checks the stream ended
 * between frames. Both throw the LKVOL_LAYER_LIMIT and LKVOL_LAYER_CORRUPT errors listed there.
 */
export function createFrameWalker(o: FrameGuardOptions): FrameWalker {
  return new Walker(o.layer, o.maxWindow ?? maxZstdWindow);
}

/** A state machine over fields (magic, headers) that are read whole and spans that are skipped. */
class Walker implements FrameWalker {
  private field: Field = 'magic';
  /** Bytes the current field needs; raised once a header tells its own size. */
  private need = 4;
  private acc = Buffer.alloc(0);
  /** Bytes to pass unread before the next field: block content, checksums, skippable payloads. */
  private skip = 0;
  private offset = 0;
  private frame = 0;
  private checksum = false;

  constructor(
    private readonly layer: string,
    private readonly maxWindow: number,
  ) {}

  feed(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        out.push(chunk.subarray(i, i + n));
        [i, this.skip, this.offset] = [i + n, this.skip - n, this.offset + n];
        continue;
      }
      const take = Math.min(this.need - this.acc.length, chunk.length - i);
      this.acc = Buffer.concat([this.acc, chunk.subarray(i, i + take)]);
      i += take;
      if (this.acc.length < this.need || !this.onField()) continue;
      out.push(this.acc);
      this.offset += this.acc.length;
      this.acc = Buffer.alloc(0);
    }
    return out;
  }

  end(): void {
    if (this.skip > 0 || this.acc.length > 0 || this.field !== 'magic')
      throw this.corrupt('the stream ends inside the frame (truncated layer)');
  }

  /** Handles a complete field; false when the field turned out longer (`need` was raised). */
  private onField(): boolean {
    if (this.field === 'frame') return this.onFrameHeader();
    if (this.field === 'block') return this.onBlockHeader();
    if (this.field === 'skippable') {
      this.skip = this.acc.readUInt32LE(4);
      this.next('magic', 4, true);
      return true;
    }
    const magic = this.acc.readUInt32LE(0);
    if (magic === frameMagic) this.next('frame', 5);
    else if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) this.next('skippable', 8);
    else throw this.corrupt(`not a zstd frame (magic 0x${magic.toString(16).padStart(8, '0')})`);
    return false;
  }

  private onFrameHeader(): boolean {
    if ((this.acc[4]! & 0x08) !== 0) throw this.corrupt('reserved bit of the frame header descriptor is set');
    const header = parseFrameHeader(this.acc);
    if (header === undefined) {
      this.need = frameHeaderSize(this.acc)!;
      return false;
    }
    if (header.window > this.maxWindow) throw this.windowError(header, this.maxWindow);
    if (header.dictionaryId !== 0)
      throw this.corrupt(`needs zstd dictionary ${header.dictionaryId}, which an OCI layer cannot carry`);
    this.checksum = header.checksum;
    this.next('block', 3);
    return true;
  }

  private onBlockHeader(): boolean {
    const h = this.acc.readUIntLE(0, 3);
    const type = (h >> 1) & 3;
    const size = h >>> 3;
    if (type === 3) throw this.corrupt('reserved block type');
    if (size > blockMaxSize) throw this.corrupt(`block of ${size} bytes exceeds the 128 KiB maximum`);
    // An RLE block stores one byte however many it expands to.
    this.skip = type === 1 ? 1 : size;
    if ((h & 1) !== 0) {
      this.skip += this.checksum ? 4 : 0;
      this.next('magic', 4, true);
    }
    return true;
  }

  private next(field: Field, need: number, frameEnds = false): void {
    [this.field, this.need] = [field, need];
    if (frameEnds) this.frame++;
  }

  private corrupt(what: string): LkvolError {
    return new LkvolError(
      'LKVOL_LAYER_CORRUPT',
      `layer ${this.layer}: zstd frame ${this.frame} at offset ${this.offset}: ${what}`,
      { hint: 'the layer is not a valid zstd stream; rebuild the image' },
    );
  }

  private windowError(h: FrameHeader, max: number): LkvolError {
    const what = h.singleSegment ? 'single-segment content size' : 'window';
    return new LkvolError(
      'LKVOL_LAYER_LIMIT',
      `layer ${this.layer}: zstd frame ${this.frame} at offset ${this.offset} declares a ${what} of ${mebibytes(h.window)}; lkvol decodes at most ${mebibytes(max)}`,
      {
        hint: 'recompress the layer with a smaller window (zstd without --long, or --long=27 at most)',
      },
    );
  }
}

function mebibytes(n: number): string {
  return `${Number((n / 2 ** 20).toFixed(2))} MiB`;
}
