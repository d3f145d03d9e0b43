// The bytes side of a layer: sniff the compression, inflate, cap the stream, hand the tar bytes on.
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LkvolError, wrapError } from '../errors.js';
import { isRegularTypeflag, TarFormatError, TarReader } from '../tar/index.js';
import { createDecompressor, detectCompression, peek, sniffLength } from './decompress.js';
import { createByteCap, layerCaps, limitError, resolveVolumeLimits, type Cap, type VolumeLimits } from './limits.js';

/** Options of {@link withTarBytes}. */
export interface TarBytesOptions {
  /** The layer's digest, named in errors. */
  layer: string;
  /** The byte cap of this layer (its uncompressed stream may exceed it by the stream overhead). */
  cap: Cap;
  signal?: AbortSignal | undefined;
}

/**
 * Inflates a layer blob (gzip, zstd or plain tar, detected from its bytes) and passes its tar bytes
 * to `consume`, which must read them to the end so an upstream digest verifier finishes. Whatever
 * fails — the blob, inflating, the cap, or `consume` — is the one error thrown; the blob is
 * destroyed and `consume` has returned before it is.
 * @throws LKVOL_LAYER_CORRUPT (a tar format error, broken compression), LKVOL_LAYER_LIMIT,
 *   LKVOL_UNSUPPORTED_MEDIA_TYPE (xz, bzip2), or what the blob or `consume` throws.
 */
export async function withTarBytes<T>(
  blob: Readable,
  o: TarBytesOptions,
  consume: (tar: AsyncIterable<Buffer>) => Promise<T>,
): Promise<T> {
  // An upstream verifier may fail before the pipeline is attached (while peeking); pipeline still
  // sees the error through the stream's errored state, but unheard it would crash the process.
  blob.on('error', () => undefined);
  let result: T | undefined;
  try {
    const { head, stream } = await peek(blob);
    const decompress = createDecompressor(detectCompression(head), o.layer);
    const cap = createByteCap({ cap: o.cap, layer: o.layer });
    await pipeline(
      stream,
      decompress,
      cap,
      async (tar: AsyncIterable<Buffer>) => {
        result = await consume(tar);
      },
      o.signal === undefined ? {} : { signal: o.signal },
    );
  } catch (err) {
    blob.destroy();
    throw layerError(o.layer, err);
  }
  return result as T;
}

/**
 * An error met while reading a layer, as the LkvolError to report (`hint` for a malformed tar, when not an image's).
 */
export function layerError(
  layer: string,
  err: unknown,
  hint = 'the layer is not a well-formed tar archive, or one that tools read differently; rebuild the image',
): LkvolError {
  if (err instanceof TarFormatError)
    return new LkvolError('LKVOL_LAYER_CORRUPT', `layer ${layer}: ${err.message}`, { hint });
  return wrapError(err, 'LKVOL_LAYER_CORRUPT', {
    message: `layer ${layer}: read layer`,
    hint: 'the layer is not a valid gzip or tar stream; rebuild the image',
  });
}

/**
 * A pass-through that reads the tar framing of the bytes going by (headers only, as the extractor
 * will) and fails as soon as they are not a tar stream (LKVOL_LAYER_CORRUPT) or hold more entries
 * than the volume may (LKVOL_LAYER_LIMIT): for a stream kept before it is extracted (a provisioner's
 * output), so a program writing something else is stopped at once instead of filling the disk. A
 * compressed stream is passed on unread (the byte cap bounds it; the extractor reads it later).
 */
export function createTarFramingCheck(layer: string, limits: VolumeLimits, hint?: string): Transform {
  const caps = layerCaps(resolveVolumeLimits(limits), { bytes: 0, entries: 0 }, undefined);
  const scan = new PassThrough({ highWaterMark: 1 << 20 });
  let head: Buffer | undefined = Buffer.alloc(0);
  let plain = false;
  let failed: Error | undefined;
  const feed = (chunk: Buffer, cb: (err?: Error | null) => void) => {
    if (scan.write(chunk)) cb();
    else scan.once('drain', () => cb(failed ?? null));
  };
  const check = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (failed !== undefined) return cb(failed);
      this.push(chunk);
      if (head !== undefined) {
        // Decide once the first bytes are in: tar (scan it) or compressed (pass it).
        head = Buffer.concat([head, chunk]);
        if (head.length < sniffLength) return cb();
        plain = detectCompression(head) === 'none';
        const first = head;
        head = undefined;
        return plain ? feed(first, cb) : cb();
      }
      return plain ? feed(chunk, cb) : cb();
    },
    flush(cb) {
      if (head !== undefined && head.length > 0) {
        plain = detectCompression(head) === 'none';
        if (plain) scan.write(head);
      }
      scan.end();
      if (!plain) return cb();
      scanned.then(() => cb(failed ?? null), cb);
    },
  });
  const scanned = (async () => {
    let entries = 0;
    let bytes = 0;
    for await (const { header } of new TarReader(scan).members()) {
      if (++entries > caps.entries.remaining) throw limitError(layer, caps.entries, 'entry count');
      // What its headers say the files hold: a stream past the budget stops at the first header over it.
      if (isRegularTypeflag(header.typeflag)) bytes += header.size;
      if (bytes > caps.bytes.remaining) throw limitError(layer, caps.bytes, `file content (${bytes} bytes declared)`);
    }
  })().catch((err: unknown) => {
    failed = err instanceof LkvolError ? err : layerError(layer, err, hint);
    scan.resume();
    check.destroy(failed);
  });
  check.once('close', () => scan.destroy());
  return check;
}
