// The gathering inflater input: same bytes out whatever the pieces, buffers reused only once zlib is done with them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { createGunzip, gzipSync, type Gunzip } from 'node:zlib';
import { gatheredInput } from './gather.js';

/** Compressible and random parts, so that pieces inflate to very different sizes. */
function content(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 12; i++)
    parts.push(i % 3 === 0 ? randomBytes(5000 + i * 977) : Buffer.alloc(20000 + i * 1313, i));
  return Buffer.concat(parts);
}

/** `data` in chunks of the given sizes (cycled), each a buffer of its own. */
function chunked(data: Buffer, sizes: number[]): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    chunks.push(Buffer.from(data.subarray(at, at + n)));
    at += n;
  }
  return Readable.from(chunks, { objectMode: false });
}

/** A gunzip that records how many pieces it holds at once and checks each is unchanged until it calls back. */
function watchedGunzip(): { gunzip: Gunzip; maxHeld: () => number; pieces: () => number } {
  const gunzip = createGunzip({ chunkSize: 4096 });
  let held = 0;
  let maxHeld = 0;
  let pieces = 0;
  const write = gunzip.write.bind(gunzip) as (chunk: Buffer, cb?: (err?: Error | null) => void) => boolean;
  (gunzip as unknown as { write: typeof write }).write = (chunk, cb) => {
    const copy = Buffer.from(chunk);
    held++;
    pieces++;
    maxHeld = Math.max(maxHeld, held);
    return write(chunk, (err) => {
      held--;
      // Still what was handed over: nothing wrote into it while the inflater had it.
      assert.ok(chunk.equals(copy), 'a piece changed before the inflater called back');
      cb?.(err);
    });
  };
  return { gunzip, maxHeld: () => maxHeld, pieces: () => pieces };
}

test('gatheredInput: the inflated bytes are the original whatever the chunking, in at most two pieces at a time', async () => {
  const data = content();
  // Two gzip members: zlib goes on to the second inside a piece.
  const half = Math.floor(data.length / 2);
  const gz = Buffer.concat([gzipSync(data.subarray(0, half)), gzipSync(data.subarray(half))]);
  for (const sizes of [[1], [7, 300], [1024], [3000], [gz.length], [5000, 1, 2048]]) {
    const w = watchedGunzip();
    const inflater = gatheredInput(w.gunzip, 1024);
    const [out] = await Promise.all([buffer(inflater), pipeline(chunked(gz, sizes), inflater)]);
    assert.ok(out.equals(data), `chunks of ${sizes.join(', ')}`);
    assert.ok(w.maxHeld() <= 2, `at most two pieces held (${w.maxHeld()})`);
    assert.equal(w.pieces(), Math.ceil(gz.length / 1024), 'whole pieces, the last one partial');
  }
});

test('gatheredInput: a slow reader holds the writer back instead of growing memory', async () => {
  const data = randomBytes(64 * 1024);
  const gz = gzipSync(data);
  const w = watchedGunzip();
  const inflater = gatheredInput(w.gunzip, 1024);
  let read = 0;
  const slow = new Writable({
    write(chunk: Buffer, _enc, cb) {
      read += chunk.length;
      setTimeout(cb, 1);
    },
  });
  await pipeline(chunked(gz, [4096]), inflater, slow);
  assert.equal(read, data.length);
  assert.ok(w.maxHeld() <= 2);
});

test('gatheredInput: corrupt input fails the pipeline, also while the writer waits for a free piece', async () => {
  const gz = gzipSync(randomBytes(50_000));
  const corrupt = Buffer.from(gz);
  corrupt.fill(0x55, 2000, 3000);
  const inflater = gatheredInput(createGunzip({ chunkSize: 4096 }), 1024);
  let read = 0;
  const consumer = async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) read += chunk.length;
  };
  await assert.rejects(pipeline(chunked(corrupt, [512]), inflater, consumer), (err: NodeJS.ErrnoException) => {
    assert.match(err.code ?? '', /^Z_/);
    return true;
  });
  assert.ok(read < 50_000);
});

test('gatheredInput: a reader that gives up ends the pipeline', async () => {
  const gz = gzipSync(randomBytes(200_000));
  const inflater = gatheredInput(createGunzip({ chunkSize: 4096 }), 1024);
  const consumer = async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) if (chunk.length > 0) throw new Error('reader gave up');
  };
  await assert.rejects(pipeline(chunked(gz, [700]), inflater, consumer), /reader gave up/);
});
