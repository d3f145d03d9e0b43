// Tests of compression sniffing and peeking at a blob's first bytes.
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { isLkvolError } from '../errors.js';
import { gzip } from '../internal/testing/tar.js';
import { createDecompressor, detectCompression, peek } from './decompress.js';

const sniffCases = [
  { name: 'gzip', input: [...gzip(Buffer.from('x')).subarray(0, 6)], want: 'gzip' },
  { name: 'zstd frame', input: [0x28, 0xb5, 0x2f, 0xfd, 0, 0], want: 'zstd' },
  { name: 'zstd skippable frame (zstd:chunked)', input: [0x5e, 0x2a, 0x4d, 0x18, 0, 0], want: 'zstd' },
  { name: 'xz', input: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], want: 'xz' },
  { name: 'bzip2', input: [0x42, 0x5a, 0x68, 0x39], want: 'bzip2' },
  { name: 'tar', input: [...Buffer.from('etc/passwd')], want: 'none' },
  { name: 'empty', input: [], want: 'none' },
  { name: 'one byte of gzip magic', input: [0x1f], want: 'none' },
] as const;

for (const c of sniffCases)
  test(`detectCompression: ${c.name}`, () => assert.equal(detectCompression(Buffer.from(c.input)), c.want));

for (const chunks of [['a', 'b', 'c', 'defgh', 'ij'], ['abcdefghij'], ['ab'], []]) {
  test(`peek keeps every byte (${JSON.stringify(chunks)})`, async () => {
    const { head, stream } = await peek(Readable.from(chunks.map((c) => Buffer.from(c))));
    assert.equal(head.toString(), chunks.join('').slice(0, Math.max(6, head.length)));
    assert.equal(await text(stream), chunks.join(''));
  });
}

test('peek waits for a slow stream', async () => {
  const slow = new PassThrough();
  const p = peek(slow);
  slow.write('abc');
  setImmediate(() => slow.end('defg'));
  const { head, stream } = await p;
  assert.equal(head.toString(), 'abcdefg');
  assert.equal(await text(stream), 'abcdefg');
});

test('peek rejects when the stream fails', async () => {
  const bad = new Readable({
    read() {
      this.destroy(new Error('boom'));
    },
  });
  bad.on('error', () => undefined);
  await assert.rejects(peek(bad), /boom/);
});

test('peek rejects a stream that failed before it was called', async () => {
  const bad = new Readable({ read() {} });
  bad.on('error', () => undefined);
  bad.destroy(new Error('early'));
  await assert.rejects(peek(bad), /early/);
});

for (const c of ['xz', 'bzip2'] as const) {
  test(`${c} layers are refused as unsupported`, () => {
    assert.throws(
      () => createDecompressor(c, 'sha256:abc'),
      (err) => isLkvolError(err, 'LKVOL_UNSUPPORTED_MEDIA_TYPE') && err.message.includes('sha256:abc'),
    );
  });
}
