// Writes a layer blob to a file while streaming: tar bytes in, gzip out, with the diff_id (sha256 of
// the tar), the digest and the size (of the gzip) computed on the way, so nothing is read back.
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** A gzip layer blob on disk. */
export interface LayerFile {
  /** File name inside the image's cache directory. */
  file: string;
  digest: string;
  size: number;
  diffId: string;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
}

/** Gzips `tar` into `path` (through a temp file renamed at the end) and returns its digests and sizes. */
export async function writeLayerFile(tar: Readable, path: string): Promise<Omit<LayerFile, 'file'>> {
  const diff = measure();
  const blob = measure();
  const temp = `${path}.partial-${process.pid}`;
  try {
    await pipeline(tar, diff.tap, createGzip(), blob.tap, createWriteStream(temp, { flags: 'wx' }));
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
  return { digest: blob.digest(), size: blob.size(), diffId: diff.digest(), tarSize: diff.size() };
}

/** A pass-through stream that hashes and counts what flows through it. */
function measure(): { tap: Transform; digest: () => string; size: () => number } {
  const hash: Hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  return { tap, digest: () => `sha256:${hash.digest('hex')}`, size: () => size };
}
