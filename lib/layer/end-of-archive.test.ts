// Tests of the end-of-archive cut: what tar-stream gets, whatever the chunking and framing.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { isLkvolError } from '../errors.js';
import { chunked } from '../internal/testing/layer-sandbox.js';
import { buildTar, type TarEntry } from '../internal/testing/tar.js';
import { createEndOfArchiveCut } from './end-of-archive.js';

async function cut(input: Readable): Promise<{ out: Buffer; ended: boolean; trailing: number }> {
  const c = createEndOfArchiveCut('sha256:abc');
  const parts: Buffer[] = [];
  c.on('data', (b: Buffer) => parts.push(b));
  await pipeline(input, c);
  return { out: Buffer.concat(parts), ended: c.ended, trailing: c.trailingDataBytes };
}

const body: TarEntry[] = [
  { name: 'a', content: 'x'.repeat(700) },
  { name: `long/${'n'.repeat(150)}`, content: 'pax' },
  { name: 'big', content: 'y'.repeat(3000), pax: { size: '3000' } },
  { name: 'd', type: 'dir' },
  { name: `gnu/${'g'.repeat(150)}`, content: 'gnu', longNames: 'gnu' },
];

for (const size of [1, 7, 333, 512, 100_000]) {
  test(`passes the archive up to the marker and swallows the rest (chunks of ${size})`, async () => {
    const archive = await buildTar(body, { endMarker: false });
    const smuggled = await buildTar([{ name: 'smuggled', content: 'z' }]);
    const input = Buffer.concat([archive, Buffer.alloc(1024), smuggled]);
    const got = await cut(chunked(input, size));
    assert.ok(got.out.equals(archive));
    assert.equal(got.ended, true);
    assert.ok(got.trailing > 0);
  });
}

test('an archive without a marker passes whole', async () => {
  const archive = await buildTar(body, { endMarker: false });
  const got = await cut(chunked(archive, 100));
  assert.ok(got.out.equals(archive));
  assert.equal(got.ended, false);
});

test('zero padding after the marker is not trailing data', async () => {
  const got = await cut(Readable.from([await buildTar([{ name: 'a' }], { after: Buffer.alloc(8192) })]));
  assert.equal(got.trailing, 0);
});

test('a PAX size record sets how much data follows', async () => {
  // NB: the ustar size field says 0; only the PAX record says where the next header is.
  const archive = await buildTar([{ name: 'a', content: 'q'.repeat(1000), size: 0, pax: { size: '1000' } }, { name: 'b' }], { endMarker: false });
  const got = await cut(chunked(archive, 64));
  assert.ok(got.out.equals(archive));
});

test('a negative size is refused', async () => {
  await assert.rejects(cut(Readable.from([await buildTar([{ name: 'a', size: -5 }])])), (err) => isLkvolError(err, 'LKVOL_LAYER_CORRUPT'));
});
