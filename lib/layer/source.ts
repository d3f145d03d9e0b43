// The bytes side of a layer: sniff the compression, inflate, cap the stream, hand the tar bytes on.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LkvolError, wrapError } from '../errors.js';
import { TarFormatError } from '../tar/index.js';
import { createDecompressor, detectCompression, peek } from './decompress.js';
import { createByteCap, type Cap } from './limits.js';

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
export async function withTarBytes<T>(blob: Readable, o: TarBytesOptions, consume: (tar: AsyncIterable<Buffer>) => Promise<T>): Promise<T> {
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

/** An error met while reading a layer, as the LkvolError to report. */
export function layerError(layer: string, err: unknown): LkvolError {
  if (err instanceof TarFormatError) return new LkvolError('LKVOL_LAYER_CORRUPT', `layer ${layer}: ${err.message}`, { hint: 'the layer is not a well-formed tar archive, or one that tools read differently; rebuild the image' });
  return wrapError(err, 'LKVOL_LAYER_CORRUPT', `layer ${layer}: read layer`, 'the layer is not a valid gzip or tar stream; rebuild the image');
}
