// Deterministic file content for the synthetic image: an AES-256-CTR keystream, as raw bytes
// (incompressible) or as hex text in 64-character lines (gzip takes it to about half).
import { createCipheriv, createHash, type Cipher } from 'node:crypto';

/** What a synthetic file holds: `size` bytes derived from `seed` alone. */
export interface ContentSpec {
  kind: 'text' | 'binary';
  size: number;
  /** Unique per file; two files with one seed and kind have the same content. */
  seed: number;
}

const key = createHash('sha256').update('lkvol-bench synthetic content v1').digest();
const chunkSize = 1 << 20;

function keystream(seed: number): Cipher {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(seed >>> 0, 0);
  return createCipheriv('aes-256-ctr', key, iv);
}

/** The content of a small file, in memory. */
export function contentBytes(spec: ContentSpec): Buffer {
  const cipher = keystream(spec.seed);
  if (spec.kind === 'binary') return cipher.update(Buffer.alloc(spec.size));
  const text = Buffer.from(
    cipher
      .update(Buffer.alloc(Math.ceil(spec.size / 2)))
      .toString('hex')
      .slice(0, spec.size),
    'latin1',
  );
  for (let i = 64; i < text.length; i += 65) text[i] = 0x0a;
  return text;
}

/** The content of a large binary file, 1 MiB at a time, never all in memory. */
export function* binaryChunks(spec: ContentSpec): Generator<Buffer> {
  const cipher = keystream(spec.seed);
  for (let left = spec.size; left > 0; left -= chunkSize) yield cipher.update(Buffer.alloc(Math.min(left, chunkSize)));
}
