// Tests of the zstd frame walker: hand-made headers around the 128 MiB window cap, skippable frames, truncation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLkvolError } from '../errors.js';
import { createFrameWalker } from './zstd-frames.js';
import { maxZstdWindow, parseFrameHeader } from './zstd-header.js';

const magic = [0x28, 0xb5, 0x2f, 0xfd];
/** A last raw block holding `data` (block header: last=1, type=0, size). */
const rawBlock = (data: number[], last = true) => [
  ((data.length << 3) | (last ? 1 : 0)) & 0xff,
  (data.length >> 5) & 0xff,
  (data.length >> 13) & 0xff,
  ...data,
];
/** Window descriptor byte for 2^log (mantissa 0). */
const windowByte = (log: number) => (log - 10) << 3;
/** A frame whose window is 2^log (or whose window descriptor byte is `descriptor`), with one raw block. */
const windowFrame = (log: number, descriptor = windowByte(log), data = [0x68, 0x69]) => [
  ...magic,
  0x00,
  descriptor,
  ...rawBlock(data),
];
const skippable = (payload: number[], nibble = 0xe) => [
  0x50 | nibble,
  0x2a,
  0x4d,
  0x18,
  payload.length,
  0,
  0,
  0,
  ...payload,
];
const le = (n: number, bytes: number) => Array.from({ length: bytes }, (_, i) => Math.floor(n / 256 ** i) % 256);

const cases: {
  name: string;
  input: number[];
  want: 'ok' | 'LKVOL_LAYER_LIMIT' | 'LKVOL_LAYER_CORRUPT';
  message?: RegExp;
}[] = [
  { name: 'smallest window (1 KiB)', input: windowFrame(10), want: 'ok' },
  { name: 'window exactly 128 MiB is allowed', input: windowFrame(27), want: 'ok' },
  // NB: mantissa 1 on 2^27 gives 144 MiB, the smallest window above the cap.
  {
    name: 'window 128 MiB + 1/8 is refused',
    input: windowFrame(27, windowByte(27) | 1),
    want: 'LKVOL_LAYER_LIMIT',
    message: /declares a window of 144 MiB; lkvol decodes at most 128 MiB/,
  },
  {
    name: '1 GiB window with a tiny payload is refused',
    input: windowFrame(30),
    want: 'LKVOL_LAYER_LIMIT',
    message: /zstd frame 0 at offset 0 declares a window of 1024 MiB/,
  },
  { name: '2 GiB window is refused', input: windowFrame(31), want: 'LKVOL_LAYER_LIMIT', message: /2048 MiB/ },
  { name: 'single segment, 1-byte content size', input: [...magic, 0x20, 5, ...rawBlock([1, 2, 3, 4, 5])], want: 'ok' },
  // NB: a 2-byte content size stores size - 256.
  { name: 'single segment, 2-byte content size', input: [...magic, 0x60, 0, 0, ...rawBlock([1])], want: 'ok' },
  {
    name: 'single segment, 4-byte content size of 200 MiB is refused',
    input: [...magic, 0xa0, ...le(200 * 2 ** 20, 4), ...rawBlock([1])],
    want: 'LKVOL_LAYER_LIMIT',
    message: /single-segment content size of 200 MiB/,
  },
  {
    name: 'single segment, 8-byte content size of 2^60 is refused',
    input: [...magic, 0xe0, ...le(2 ** 60, 8), ...rawBlock([1])],
    want: 'LKVOL_LAYER_LIMIT',
  },
  {
    name: 'a huge content size does not matter when the window is small',
    input: [...magic, 0xc0, windowByte(20), ...le(2 ** 40, 8), ...rawBlock([1])],
    want: 'ok',
  },
  {
    name: 'checksum bytes after the last block',
    input: [...magic, 0x04, windowByte(10), ...rawBlock([7]), 1, 2, 3, 4],
    want: 'ok',
  },
  {
    name: 'RLE block stores one byte',
    input: [...magic, 0x00, windowByte(17), ...le((100 << 3) | 3, 3), 0x41],
    want: 'ok',
  },
  { name: 'skippable frame, then a frame', input: [...skippable([9, 9, 9]), ...windowFrame(10)], want: 'ok' },
  {
    name: 'every skippable magic 0x184D2A50..5F',
    input: Array.from({ length: 16 }, (_, n) => skippable([n], n)).flat(),
    want: 'ok',
  },
  {
    name: 'multi-frame: the second frame is checked too',
    input: [...windowFrame(10), ...skippable([]), ...windowFrame(30)],
    want: 'LKVOL_LAYER_LIMIT',
    message: /zstd frame 2 at offset 19 /,
  },
  {
    name: 'a second block before the last',
    input: [...magic, 0x00, windowByte(10), ...rawBlock([1], false), ...rawBlock([2])],
    want: 'ok',
  },
  {
    name: 'reserved descriptor bit',
    input: [...magic, 0x08, windowByte(10), ...rawBlock([1])],
    want: 'LKVOL_LAYER_CORRUPT',
    message: /reserved bit/,
  },
  {
    name: 'dictionary id',
    input: [...magic, 0x01, windowByte(10), 7, ...rawBlock([1])],
    want: 'LKVOL_LAYER_CORRUPT',
    message: /dictionary 7/,
  },
  {
    name: 'reserved block type',
    input: [...magic, 0x00, windowByte(10), 0x07, 0, 0],
    want: 'LKVOL_LAYER_CORRUPT',
    message: /reserved block type/,
  },
  {
    name: 'block larger than 128 KiB',
    input: [...magic, 0x00, windowByte(20), ...le(((128 * 1024 + 1) << 3) | 1, 3)],
    want: 'LKVOL_LAYER_CORRUPT',
    message: /exceeds the 128 KiB maximum/,
  },
  {
    name: 'not a zstd frame after the first',
    input: [...windowFrame(10), 0, 0, 0, 0],
    want: 'LKVOL_LAYER_CORRUPT',
    message: /not a zstd frame \(magic 0x00000000\)/,
  },
  { name: 'truncated inside the header', input: [...magic, 0x00], want: 'LKVOL_LAYER_CORRUPT', message: /truncated/ },
  {
    name: 'truncated inside a block',
    input: windowFrame(10).slice(0, -1),
    want: 'LKVOL_LAYER_CORRUPT',
    message: /truncated/,
  },
  {
    name: 'truncated before the checksum',
    input: [...magic, 0x04, windowByte(10), ...rawBlock([7]), 1, 2],
    want: 'LKVOL_LAYER_CORRUPT',
    message: /truncated/,
  },
  {
    name: 'truncated inside a skippable frame',
    input: skippable([1, 2, 3]).slice(0, -1),
    want: 'LKVOL_LAYER_CORRUPT',
    message: /truncated/,
  },
];

/** Feeds `input` in pieces of `size` bytes; returns what the walker let through, or the error. */
function walk(input: Buffer, size: number): Buffer | unknown {
  const walker = createFrameWalker({ layer: 'sha256:abc' });
  const out: Buffer[] = [];
  try {
    for (let at = 0; at < input.length; at += size) out.push(...walker.feed(input.subarray(at, at + size)));
    walker.end();
    return Buffer.concat(out);
  } catch (err) {
    return err;
  }
}

for (const c of cases) {
  test(`zstd frames: ${c.name}`, () => {
    const input = Buffer.from(c.input);
    // Split at every size from byte-by-byte to whole: a field split across chunks must not change the verdict.
    for (const size of [1, 2, 3, 5, 7, input.length]) {
      const got = walk(input, size);
      if (c.want === 'ok') assert.deepEqual(got, input, `chunk size ${size}`);
      else
        assert.ok(
          isLkvolError(got, c.want) &&
            got.message.startsWith('layer sha256:abc: ') &&
            (c.message?.test(got.message) ?? true),
          `chunk size ${size}: ${String(got)}`,
        );
    }
  });
}

test('zstd frames: bytes of a refused header never reach the decoder', () => {
  const walker = createFrameWalker({ layer: 'l' });
  const frame = Buffer.from(windowFrame(10));
  const passed = Buffer.concat(walker.feed(Buffer.concat([frame, Buffer.from(magic)])));
  assert.deepEqual(passed, frame);
  assert.throws(() => walker.feed(Buffer.from([0x00, windowByte(31)])), { code: 'LKVOL_LAYER_LIMIT' });
});

test('parseFrameHeader reads the window and waits for the whole header', () => {
  assert.equal(parseFrameHeader(Buffer.from([...magic, 0x00])), undefined);
  assert.deepEqual(parseFrameHeader(Buffer.from([...magic, 0x04, windowByte(27) | 4])), {
    size: 6,
    window: maxZstdWindow * 1.5,
    singleSegment: false,
    checksum: true,
    dictionaryId: 0,
  });
});
