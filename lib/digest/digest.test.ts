import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHasher, createVerifier, digestOf, isDigest, parseDigest } from './index.js';
import { isLkvolError } from '../errors.js';

const data = Buffer.from('hello, lkvol');
const good = digestOf(data);

async function run(chunks: Buffer[], size: number | undefined, digest = good): Promise<number> {
  const v = createVerifier({ digest, size, subject: 'blob x' });
  let out = 0;
  await pipeline(
    Readable.from(chunks),
    v,
    new Writable({
      write(c: Buffer, _e, cb) {
        out += c.length;
        cb();
      },
    }),
  );
  return out;
}

test('isDigest accepts sha256 and sha512 and nothing else', () => {
  assert.equal(isDigest(good), true);
  assert.equal(isDigest(`sha512:${'0'.repeat(128)}`), true);
  assert.equal(isDigest(`sha256:${'0'.repeat(63)}`), false);
  assert.equal(isDigest(`sha256:${'G'.repeat(64)}`), false);
  assert.equal(isDigest(`sha256:../${'0'.repeat(61)}`), false);
  assert.equal(isDigest(`sha384:${'0'.repeat(96)}`), false);
});

test('parseDigest names what was invalid', () => {
  assert.throws(
    () => parseDigest('sha256:xyz', 'layers[0].digest'),
    (e: unknown) =>
      isLkvolError(e, 'LKVOL_REF_INVALID') && e.message.startsWith('layers[0].digest: invalid digest "sha256:xyz"'),
  );
});

test('verifier passes matching bytes through unchanged', async () => {
  assert.equal(await run([data.subarray(0, 3), data.subarray(3)], data.length), data.length);
});

const failures = [
  {
    name: 'wrong digest',
    chunks: [data],
    size: data.length as number | undefined,
    digest: digestOf('other'),
    want: /digest mismatch after 12 bytes/,
  },
  {
    name: 'too short',
    chunks: [data.subarray(0, 5)],
    size: data.length as number | undefined,
    digest: good,
    want: /size mismatch after 5 bytes/,
  },
  {
    name: 'too long fails before the end',
    chunks: [data, data],
    size: data.length as number | undefined,
    digest: good,
    want: /size mismatch after 24 bytes/,
  },
  {
    name: 'unknown size, wrong digest',
    chunks: [data.subarray(1)],
    size: undefined,
    digest: good,
    want: /digest mismatch/,
  },
];
for (const c of failures) {
  test(`verifier fails: ${c.name}`, async () => {
    await assert.rejects(
      run(c.chunks, c.size, c.digest),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_DIGEST_MISMATCH') && c.want.test(e.message) && e.message.startsWith('blob x: '),
    );
  });
}

test('hasher reports digest and byte count', async () => {
  const h = createHasher();
  await pipeline(
    Readable.from([data]),
    h,
    new Writable({
      write(_c, _e, cb) {
        cb();
      },
    }),
  );
  assert.equal(h.digest(), good);
  assert.equal(h.bytes, data.length);
});
