// Tests of reading a blob while the cache stores it: progress, a retried download, failures.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { digestOf } from '../digest/index.js';
import { LkvolError, isLkvolError } from '../errors.js';
import { tempDir } from '../internal/testing/temp.js';
import { corruptCachedDigest, createBlobCache } from './blob-cache.js';
import { FollowInterruptedError, GrowingFiles, writeSize } from './growing.js';

const blob = randomBytes(3 * 1024 * 1024 + 17);
const digest = digestOf(blob);
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A source that yields `blob` in 64 KiB pieces, pausing between them; `failAt` breaks it there. */
function slowSource(o: { failAt?: number } = {}): Readable {
  return Readable.from(
    (async function* () {
      for (let at = 0; at < blob.length; at += 65536) {
        if (o.failAt !== undefined && at >= o.failAt) throw new Error('connection reset');
        await tick();
        yield blob.subarray(at, at + 65536);
      }
    })(),
  );
}

test('a blob is read while it is written, and reading starts before the write ends', async (t) => {
  const cache = await createBlobCache({ dir: await tempDir(t, 'cache') });
  const stored = cache.put(digest, blob.length, slowSource(), { subject: 'blob' });
  const reader = await cache.openWhileStoring(digest, blob.length, 'blob', stored);
  let firstChunkBeforeStored = false;
  let done = false;
  void stored.then(() => (done = true));
  const parts: Buffer[] = [];
  for await (const chunk of reader) {
    if (parts.length === 0) firstChunkBeforeStored = !done;
    parts.push(chunk as Buffer);
  }
  assert.ok(Buffer.concat(parts).equals(blob));
  assert.ok(firstChunkBeforeStored, 'the first bytes arrived before the blob was stored');
  await stored;
});

test('a temp file grows writeSize bytes at a time, not a network chunk at a time, and is whole at the end', async (t) => {
  const path = join(await tempDir(t, 'grow'), 'temp');
  const files = new GrowingFiles();
  const { stream } = files.writer(digest, path);
  const file = files.current(digest)!;
  const seen = new Set<number>();
  for (let at = 0; at < blob.length; at += 65536) {
    await new Promise<void>((resolve, reject) =>
      stream.write(blob.subarray(at, at + 65536), (err) => (err ? reject(err) : resolve())),
    );
    seen.add(file.written);
  }
  await new Promise<void>((resolve) => stream.end(resolve));
  assert.ok(writeSize > 65536, 'more than one network chunk per write');
  const steps = Array.from({ length: Math.floor(blob.length / writeSize) + 1 }, (_, i) => i * writeSize);
  assert.deepEqual([...seen], steps);
  assert.equal(file.written, blob.length);
  assert.ok((await readFile(path)).equals(blob));
});

test('when an attempt breaks after some bytes were read, the reader fails: those bytes were never verified', async (t) => {
  const cache = await createBlobCache({ dir: await tempDir(t, 'cache') });
  const stored = (async () => {
    await cache
      // Past the first steps the writer hands on (growing.ts writeSize), so the reader has had some.
      .put(digest, blob.length, slowSource({ failAt: 2.5 * 1024 * 1024 }), { subject: 'blob' })
      .catch(() => undefined);
    await cache.put(digest, blob.length, slowSource(), { subject: 'blob' });
  })();
  const reader = await cache.openWhileStoring(digest, blob.length, 'blob', stored);
  await assert.rejects(buffer(reader), (e: unknown) => e instanceof FollowInterruptedError && e.digest === digest);
  await stored;
  // Started over, the stored blob reads whole (and verified).
  assert.ok((await buffer(cache.open(digest, blob.length, 'blob'))).equals(blob));
});

test('an attempt that breaks before anything was read is followed by the next one from byte 0', async (t) => {
  const cache = await createBlobCache({ dir: await tempDir(t, 'cache') });
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const stored = (async () => {
    const first = cache.put(digest, blob.length, slowSource({ failAt: 0 }), { subject: 'blob' }).catch(() => undefined);
    await held;
    await first;
    await cache.put(digest, blob.length, slowSource(), { subject: 'blob' });
  })();
  // NB: the reader starts on the first attempt, which has written nothing when it breaks.
  const reading = cache.openWhileStoring(digest, blob.length, 'blob', stored);
  release();
  assert.ok((await buffer(await reading)).equals(blob));
});

test('bytes that do not match the digest never end the reader normally: the download fails, so does the reader', async (t) => {
  const cache = await createBlobCache({ dir: await tempDir(t, 'cache') });
  const wrong = Buffer.from(blob);
  wrong[100] = wrong[100]! ^ 1;
  const source = new PassThrough();
  const stored = cache.put(digest, blob.length, source, { subject: 'blob' });
  stored.catch(() => undefined);
  const reading = cache.openWhileStoring(digest, blob.length, 'blob', stored);
  source.end(wrong);
  // Depending on how far the reader got before the check: interrupted, or the download's own error.
  await assert.rejects(
    reading.then(buffer),
    (e: unknown) => e instanceof FollowInterruptedError || isLkvolError(e, 'LKVOL_DIGEST_MISMATCH'),
  );
  await assert.rejects(stored, (e: unknown) => isLkvolError(e, 'LKVOL_DIGEST_MISMATCH'));
});

test('a source that verifies itself is stored without a second hash, and still refused when it fails', async (t) => {
  const cache = await createBlobCache({ dir: await tempDir(t, 'cache') });
  const failing = new PassThrough();
  const put = cache.put(digest, blob.length, failing, { subject: 'blob', sourceVerifies: true });
  failing.write(blob.subarray(0, 1000));
  failing.destroy(new LkvolError('LKVOL_DIGEST_MISMATCH', 'blob: digest mismatch'));
  await assert.rejects(put, (e: unknown) => isLkvolError(e, 'LKVOL_DIGEST_MISMATCH'));
  assert.equal(await cache.has(digest), false);
  await cache.put(digest, blob.length, Readable.from([blob]), { subject: 'blob', sourceVerifies: true });
  assert.ok((await buffer(cache.open(digest, blob.length, 'blob'))).equals(blob));
});

test('a blob stored before anyone looked is opened from the cache, and a corrupt copy is reported as such', async (t) => {
  const cache = await createBlobCache({ dir: await tempDir(t, 'cache') });
  await cache.put(digest, blob.length, Readable.from([blob]), { subject: 'blob' });
  assert.ok((await buffer(await cache.openWhileStoring(digest, blob.length, 'blob', Promise.resolve()))).equals(blob));
  await writeFile(cache.pathOf(digest), Buffer.alloc(blob.length));
  await assert.rejects(
    buffer(await cache.openWhileStoring(digest, blob.length, 'blob', Promise.resolve())),
    (e: unknown) => corruptCachedDigest(e) === digest,
  );
});
