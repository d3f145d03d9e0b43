// Compression sniffing: choose gunzip or pass-through from a layer's first bytes, not its media type.
import { PassThrough, Readable, type Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LkvolError } from '../errors.js';
import { gatheredInput } from './gather.js';
import { createZstdDecompressor } from './zstd.js';

/** Compression formats recognised by their magic bytes. */
export type Compression = 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'none';

const magics: ReadonlyArray<[Compression, number[]]> = [
  ['gzip', [0x1f, 0x8b]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['bzip2', [0x42, 0x5a, 0x68]],
];

/** Bytes needed to tell the formats apart. */
export const sniffLength = 6;

/**
 * Names the compression of a blob from its first bytes. Media types are only hints (a blob labelled
 * `+gzip` may be plain tar, and vice versa), so the bytes decide.
 */
export function detectCompression(head: Uint8Array): Compression {
  for (const [name, magic] of magics) {
    if (magic.every((b, i) => head[i] === b)) return name;
  }
  // zstd skippable frames (magic 0x184D2A50..5F, little-endian) open zstd:chunked blobs.
  if (head.length >= 4 && (head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18)
    return 'zstd';
  return 'none';
}

/**
 * Reads the first {@link sniffLength} bytes of `blob` (or all of it when shorter) without losing them:
 * the returned stream yields the whole blob from its first byte. Rejects when the blob fails; the
 * caller must listen for `error` on the blob itself (the event may come after the rejection).
 */
export async function peek(blob: Readable): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < sniffLength) {
    const chunk = blob.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(chunk);
      length += chunk.length;
    } else if (blob.readableEnded) {
      break;
    } else if (blob.destroyed) {
      throw blob.errored ?? new Error('blob stream closed before its end');
    } else {
      await nextReadable(blob);
    }
  }
  const head = Buffer.concat(chunks);
  // A stream that has emitted 'end' refuses unshift; it was all in `head` anyway.
  if (blob.readableEnded) return { head, stream: Readable.from(head.length > 0 ? [head] : []) };
  if (head.length > 0) blob.unshift(head);
  return { head, stream: blob };
}

function nextReadable(blob: Readable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: unknown) => {
      blob.off('readable', done).off('end', done).off('error', done).off('close', done);
      if (err instanceof Error) reject(err);
      else if (blob.errored) reject(blob.errored);
      else if (blob.destroyed && !blob.readableEnded) reject(new Error('blob stream closed before its end'));
      else resolve();
    };
    blob.on('readable', done).on('end', done).on('error', done).on('close', done);
  });
}

/**
 * A stream that turns the blob's bytes into the uncompressed tar stream.
 * Gzip goes through node:zlib (multi-member streams and trailing NUL padding are fine; other
 * trailing bytes fail as corrupt); zstd through {@link createZstdDecompressor} (frames checked
 * against a 128 MiB window cap, then Node's own decoder or fzstd in a worker); plain tar passes through.
 * The returned stream fails with LKVOL_LAYER_CORRUPT or LKVOL_LAYER_LIMIT (zstd windows).
 * @throws LKVOL_UNSUPPORTED_MEDIA_TYPE for xz and bzip2 layers.
 */
export function createDecompressor(compression: Compression, layer: string): Duplex {
  switch (compression) {
    case 'gzip':
      return gatheredInput(createGunzip({ chunkSize: 256 * 1024 }));
    case 'zstd':
      return createZstdDecompressor({ layer });
    case 'none':
      return new PassThrough();
    default:
      throw new LkvolError(
        'LKVOL_UNSUPPORTED_MEDIA_TYPE',
        `layer ${layer}: ${compression} compression is not supported`,
        {
          hint: 'OCI layers are gzip, zstd or uncompressed tar; rebuild the image',
        },
      );
  }
}
