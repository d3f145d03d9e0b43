// Tests of zstd decoding: zstd CLI fixtures through the guard and fzstd worker, refusals, backpressure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { isLkvolError } from '../errors.js';
import { createDecompressor } from './decompress.js';
import { createZstdDecompressor, nativeZstd, type ZstdDecoder } from './zstd.js';

/** Compresses with the zstd CLI (installed by .ci/debian-deps.sh); `stdin` hides the size, as a pipe does. */
function zstd(input: Buffer, args: string[] = []): Buffer {
  return execFileSync('zstd', ['-q', '-c', ...args], { input, maxBuffer: 1 << 30 });
}

/** Deterministic, mildly compressible bytes (so frames hold compressed, raw and RLE blocks). */
function sample(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 4096 < 1024 ? 0 : 0x61 + ((x >>> 16) % 8);
  }
  return out;
}

const skippable = (payload: Buffer) =>
  Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18]), Buffer.from(Uint32Array.of(payload.length).buffer), payload]);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A sink that keeps what it is given. */
const collect = (out: Buffer[]) => new Writable({ write: (c: Buffer, _e, cb) => cb(void out.push(c)) });

/** Runs `blob` through the decoder in 64 KiB chunks; resolves to the output. */
async function decode(blob: Buffer, decoder: ZstdDecoder = 'fzstd'): Promise<Buffer> {
  const chunks = Array.from({ length: Math.ceil(blob.length / 65536) }, (_, i) =>
    blob.subarray(i * 65536, (i + 1) * 65536),
  );
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), createZstdDecompressor({ layer: 'sha256:abc', decoder }), collect(out));
  return Buffer.concat(out);
}

const a = sample(700_000, 1);
const b = sample(300_000, 2);
const decodeCases = [
  {
    name: 'one frame (content size known, checksum)',
    blob: () => zstd(a, ['-19', `--stream-size=${a.length}`]),
    want: a,
  },
  { name: 'one frame from a pipe, no checksum', blob: () => zstd(a, ['--no-check']), want: a },
  { name: 'two frames concatenated', blob: () => Buffer.concat([zstd(a), zstd(b)]), want: Buffer.concat([a, b]) },
  {
    name: 'a skippable frame first (zstd:chunked), another between frames',
    blob: () => Buffer.concat([skippable(Buffer.from('toc')), zstd(a), skippable(Buffer.alloc(0)), zstd(b)]),
    want: Buffer.concat([a, b]),
  },
  { name: 'an empty frame', blob: () => zstd(Buffer.alloc(0)), want: Buffer.alloc(0) },
  { name: 'a 128 MiB window (--long=27) is accepted', blob: () => zstd(b, ['--long=27']), want: b },
];

// NB: the native decoder exists only on Node >= 22.15, so on Node 20 only fzstd runs these cases.
const decoders: ZstdDecoder[] = nativeZstd(zlib) === undefined ? ['fzstd'] : ['fzstd', 'native'];
for (const decoder of decoders) {
  for (const c of decodeCases) {
    test(`zstd (${decoder}): ${c.name}`, async () => assert.equal(sha(await decode(c.blob(), decoder)), sha(c.want)));
  }
}

const refusals = [
  {
    name: '--long=31 from a pipe declares a 2 GiB window',
    blob: () => zstd(b, ['--long=31']),
    code: 'LKVOL_LAYER_LIMIT',
    message: /zstd frame 0 at offset 0 declares a window of 2048 MiB/,
  },
  {
    name: 'a hand-made 1 GiB window with 5 bytes of payload',
    blob: () => Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa0, 0x29, 0, 0, ...Buffer.from('hello')]),
    code: 'LKVOL_LAYER_LIMIT',
    message: /1024 MiB/,
  },
  {
    name: 'a large window in the second frame',
    blob: () => Buffer.concat([zstd(a), zstd(b, ['--long=28'])]),
    code: 'LKVOL_LAYER_LIMIT',
    message: /zstd frame 1 at offset \d+ declares a window of 256 MiB/,
  },
  {
    name: 'a truncated stream',
    blob: () => zstd(a).subarray(0, 1000),
    code: 'LKVOL_LAYER_CORRUPT',
    message: /truncated/,
  },
  {
    name: 'garbage after the last frame',
    blob: () => Buffer.concat([zstd(a), Buffer.from('junk')]),
    code: 'LKVOL_LAYER_CORRUPT',
    message: /not a zstd frame/,
  },
  // A compressed block whose literals header is nonsense: only the decoder (in the worker) can tell.
  {
    name: 'a broken compressed block',
    blob: () => Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x25, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    code: 'LKVOL_LAYER_CORRUPT',
    message: /^layer sha256:abc: zstd: /,
  },
];

for (const c of refusals) {
  test(`zstd refuses ${c.name}`, async () => {
    await assert.rejects(
      decode(c.blob()),
      (err) =>
        isLkvolError(err, c.code as 'LKVOL_LAYER_LIMIT') &&
        err.message.startsWith('layer sha256:abc: ') &&
        c.message.test(err.message),
    );
  });
}

test('createDecompressor picks the zstd decoder by sniffed bytes', async () => {
  const out: Buffer[] = [];
  await pipeline(Readable.from([zstd(b)]), createDecompressor('zstd', 'l'), collect(out));
  assert.equal(sha(Buffer.concat(out)), sha(b));
});

/** A frame of `blocks` RLE blocks of 128 KiB each: 4 bytes per 128 KiB of output. */
function rleBomb(blocks: number): Buffer {
  const out = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38];
  for (let i = 0; i < blocks; i++) {
    const h = (128 * 1024 * 8) | 2 | (i === blocks - 1 ? 1 : 0);
    out.push(h & 0xff, (h >> 8) & 0xff, h >> 16, 0x41);
  }
  return Buffer.from(out);
}

test('a slow reader holds the worker back: a 256 MiB bomb never piles up in memory', async () => {
  const stream = createZstdDecompressor({ layer: 'l' });
  Readable.from([rleBomb(2048)]).pipe(stream);
  const base = process.memoryUsage().arrayBuffers;
  let [total, seen, maxHeld] = [0, 0, 0];
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (++seen > 3) continue;
    // A consumer busy for 200 ms (as tar extraction can be): an unpaced worker would decode most of
    // the bomb meanwhile, and its batches would land in this thread on the next turn of the loop.
    const until = Date.now() + 200;
    while (Date.now() < until);
    await new Promise((resolve) => setImmediate(resolve));
    maxHeld = Math.max(maxHeld, process.memoryUsage().arrayBuffers - base);
  }
  assert.equal(total, 256 * 2 ** 20);
  // Paced, this thread holds a batch or two (a slice yields 8 MiB at most); unpaced, ~300 MiB.
  assert.ok(maxHeld <= 32 * 2 ** 20, `held ${maxHeld} bytes`);
});

test('nativeZstd feature-detects node:zlib and caps its window too', () => {
  assert.equal(nativeZstd({}), undefined);
  const calls: unknown[] = [];
  const fake = { createZstdDecompress: (o: unknown) => calls.push(o), constants: { ZSTD_d_windowLogMax: 1000 } };
  nativeZstd(fake)!();
  assert.deepEqual(calls, [{ params: { 1000: 27 } }]);
});
