// Tests of the blob cache: verified puts and reads, concurrent writers, and temp files of killed builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, readlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { corruptCachedDigest, createBlobCache } from './blob-cache.js';
import { writerTag } from './writers.js';
import { digestOf } from '../digest/index.js';
import { isLkvolError } from '../errors.js';
import { tempDir } from '../internal/testing/temp.js';

const body = Buffer.from('layer bytes');
const digest = digestOf(body);

test('put stores under v1/blobs/sha256/<hex> and open reads it back verified', async (t) => {
  const cache = await createBlobCache({ dir: await tempDir(t, 'cache') });
  assert.equal(await cache.has(digest), false);
  await cache.put(digest, body.length, Readable.from([body]), { subject: 'blob' });
  assert.equal(await cache.has(digest), true);
  assert.match(cache.pathOf(digest), /\/v1\/blobs\/sha256\/[0-9a-f]{64}$/);
  assert.equal(await text(cache.open(digest, body.length, 'blob')), 'layer bytes');
});

test('a blob whose bytes do not match is refused and leaves no file', async (t) => {
  const dir = await tempDir(t, 'cache');
  const cache = await createBlobCache({ dir });
  await assert.rejects(
    cache.put(digest, body.length, Readable.from([Buffer.from('other bytes')]), { subject: 'layer x' }),
    (e: unknown) => isLkvolError(e, 'LKVOL_DIGEST_MISMATCH') && e.message.startsWith('layer x: '),
  );
  assert.equal(await cache.has(digest), false);
  assert.deepEqual(await readdir(join(dir, 'v1', 'tmp')), []);
});

test('a corrupted cached blob fails on read', async (t) => {
  const cache = await createBlobCache({ dir: await tempDir(t, 'cache') });
  await cache.put(digest, body.length, Readable.from([body]), { subject: 'blob' });
  await writeFile(cache.pathOf(digest), 'layer bytez');
  await assert.rejects(
    text(cache.open(digest, body.length, 'layer y')),
    (e: unknown) => isLkvolError(e, 'LKVOL_DIGEST_MISMATCH') && e.message.includes('cached at'),
  );
});

test('concurrent puts of one digest both succeed with one correct blob', async (t) => {
  const dir = await tempDir(t, 'cache');
  const [a, b] = [await createBlobCache({ dir }), await createBlobCache({ dir })];
  await Promise.all([
    a.put(digest, body.length, Readable.from([body]), { subject: 'a' }),
    b.put(digest, body.length, Readable.from([body]), { subject: 'b' }),
  ]);
  assert.deepEqual(await readFile(a.pathOf(digest)), body);
  assert.deepEqual(await readdir(join(dir, 'v1', 'tmp')), []);
});

test('stale temp files of a killed build are removed on open, fresh ones kept', async (t) => {
  const dir = await tempDir(t, 'cache');
  await createBlobCache({ dir });
  const stale = join(dir, 'v1', 'tmp', 'stale.1');
  const fresh = join(dir, 'v1', 'tmp', 'fresh.1');
  await writeFile(stale, 'x');
  await writeFile(fresh, 'y');
  const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
  await utimes(stale, old, old);
  await createBlobCache({ dir });
  assert.deepEqual(await readdir(join(dir, 'v1', 'tmp')), ['fresh.1']);
});

test('temp files of dead writers on this host are removed on open however fresh; live ones are kept', async (t) => {
  const dir = await tempDir(t, 'cache');
  await createBlobCache({ dir });
  const host = writerTag().split('-')[0]!;
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  const names = {
    dead: `aa.${host}-${dead}.01`,
    // NB: our own pid, but no put of this process holds it: a killed build's pid reused (containers).
    ownPidNotHeld: `aa.${host}-${process.pid}.02`,
    alive: `aa.${host}-${process.ppid}.03`,
    otherHostDeadPid: `aa.0badc0de-${dead}.04`,
    beforeWriterTags: 'aa.05',
  };
  for (const name of Object.values(names)) await writeFile(join(dir, 'v1', 'tmp', name), 'x');
  await createBlobCache({ dir });
  assert.deepEqual(
    (await readdir(join(dir, 'v1', 'tmp'))).sort(),
    [names.otherHostDeadPid, names.beforeWriterTags, names.alive].sort(),
  );
});

test('opening the cache while this process is writing a blob keeps that temp file', async (t) => {
  const dir = await tempDir(t, 'cache');
  const cache = await createBlobCache({ dir });
  const source = new PassThrough();
  const put = cache.put(digest, body.length, source, { subject: 'blob' });
  source.write(body.subarray(0, 3));
  const tmp = join(dir, 'v1', 'tmp');
  // The temp file is opened asynchronously; wait for it by reading the directory, not by sleeping.
  while ((await readdir(tmp)).length === 0) await new Promise((resolve) => setImmediate(resolve));
  await createBlobCache({ dir });
  assert.equal((await readdir(tmp)).length, 1);
  source.end(body.subarray(3));
  await put;
  assert.deepEqual(await readFile(cache.pathOf(digest)), body);
});

test('abandoning a cached read closes its file, and a corrupt read names its blob', async (t) => {
  const cache = await createBlobCache({ dir: await tempDir(t, 'cache') });
  await cache.put(digest, body.length, Readable.from([body]), { subject: 'blob' });
  // Descriptors of this process that point at the cached blob.
  const openOnBlob = async () => {
    let n = 0;
    for (const fd of await readdir('/proc/self/fd'))
      if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) === cache.pathOf(digest)) n++;
    return n;
  };
  for (let i = 0; i < 5; i++) {
    const s = cache.open(digest, body.length, 'blob');
    await new Promise((resolve) => s.once('readable', resolve));
    s.destroy();
  }
  // close(2) runs on libuv's pool: wait (bounded) until it has, then expect no descriptor left.
  for (let i = 0; i < 100 && (await openOnBlob()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(await openOnBlob(), 0);
  await writeFile(cache.pathOf(digest), 'layer bytez');
  const err = await text(cache.open(digest, body.length, 'blob')).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.equal(corruptCachedDigest(err), digest);
  assert.equal(corruptCachedDigest(new Error('other')), undefined);
});
