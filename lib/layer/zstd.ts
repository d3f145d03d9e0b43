// zstd layers: the frame guard in front of Node's own decoder when it has one, else fzstd in a worker.
import * as streams from 'node:stream';
import { Duplex, type Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { LkvolError, wrapError } from '../errors.js';
import { startWorker } from '../internal/builtin.js';
import { createZstdFrameGuard } from './zstd-frames.js';
import { maxZstdWindow } from './zstd-header.js';

/** Messages to the worker (`zstd-worker.ts`); an `ack` lets it post the next batch. */
export type ToWorker = { type: 'data'; chunk: Uint8Array } | { type: 'end' };
/** Messages from the worker. */
export type FromWorker =
  { type: 'out'; data: Uint8Array } | { type: 'consumed' } | { type: 'finished' } | { type: 'error'; message: string };

/** Which decoder runs behind the guard: `auto` picks node:zlib's when the running Node has one. */
export type ZstdDecoder = 'auto' | 'fzstd' | 'native';

// Beside this file in lib/ and in dist/ alike, whatever the caller's working directory.
const workerUrl = new URL('./zstd-worker.js', import.meta.url);
// stream.compose exists since Node 16.9 (experimental, stable in behaviour) but @types/node 20 omits it.
const compose = (streams as unknown as { compose(...s: Duplex[]): Duplex }).compose;
const corruptHint = 'the layer is not a valid zstd stream; rebuild the image';

/** The options of {@link createZstdDecompressor}. */
export interface ZstdOptions {
  /** Layer digest, named in every error. */
  layer: string;
  decoder?: ZstdDecoder | undefined;
}

/**
 * A Duplex that turns a zstd layer (any number of zstd and skippable frames) into its tar stream,
 * streaming with backpressure. Every frame header is checked first (see `zstd-frames.ts`).
 * @throws (as stream errors) LKVOL_LAYER_LIMIT for a window over 128 MiB, LKVOL_LAYER_CORRUPT for
 *   an invalid stream (the native decoder fails with zlib's own error, which extractLayer wraps as
 *   LKVOL_LAYER_CORRUPT); LKVOL_INTERNAL, thrown, when `native` is asked for on a Node without it.
 */
export function createZstdDecompressor(o: ZstdOptions): Duplex {
  const guard = createZstdFrameGuard({ layer: o.layer });
  const native = nativeZstd(zlib);
  const decoder = o.decoder ?? 'auto';
  if (decoder === 'native' && native === undefined)
    throw new LkvolError('LKVOL_INTERNAL', `layer ${o.layer}: this Node has no built-in zstd`, {
      hint: 'this is a bug; please report it',
    });
  const inner = decoder !== 'fzstd' && native !== undefined ? native() : createWorkerDecoder(o.layer);
  return compose(guard, inner);
}

type ZlibLike = Partial<Record<'createZstdDecompress', (opts?: object) => Transform>> & {
  constants?: Record<string, number>;
};

/** The built-in decoder factory (node:zlib, Node >= 22.15), or undefined on a Node without one. */
export function nativeZstd(z: object): (() => Transform) | undefined {
  const lib = z as ZlibLike;
  const create = lib.createZstdDecompress;
  if (typeof create !== 'function') return undefined;
  const windowLogMax = lib.constants?.['ZSTD_d_windowLogMax'];
  // Belt and braces behind the guard: libzstd itself refuses windows past 2^27 too.
  const params = windowLogMax === undefined ? {} : { params: { [windowLogMax]: Math.log2(maxZstdWindow) } };
  return () => create.call(z, params);
}

/**
 * fzstd in a worker thread (it is synchronous JavaScript and would stall the event loop for a
 * whole layer). One input chunk is in flight at a time, and the worker posts its output in batches
 * of 1–8 MiB, each waiting for this side's reader, so memory stays bounded even for a bomb.
 */
function createWorkerDecoder(layer: string): Duplex {
  const worker = startWorker(workerUrl);
  let consumed: ((err?: Error | null) => void) | undefined;
  let finished: ((err?: Error | null) => void) | undefined;
  let ackOwed = false;
  let done = false;
  const ack = () => worker.postMessage({ type: 'ack' });
  const stream = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      consumed = callback;
      worker.postMessage({ type: 'data', chunk } satisfies ToWorker);
    },
    final(callback) {
      finished = callback;
      worker.postMessage({ type: 'end' } satisfies ToWorker);
    },
    read() {
      if (!ackOwed) return;
      ackOwed = false;
      ack();
    },
    destroy(err, callback) {
      worker.terminate().then(
        () => callback(err),
        () => callback(err),
      );
    },
  });
  worker.on('message', (m: FromWorker) => {
    // Messages already in flight when the stream was destroyed (and the worker terminated) are moot.
    if (stream.destroyed) return;
    if (m.type === 'out') {
      if (stream.push(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength))) ack();
      else ackOwed = true;
    } else if (m.type === 'consumed') {
      consumed?.();
    } else if (m.type === 'finished') {
      done = true;
      stream.push(null);
      finished?.();
      void worker.terminate();
    } else {
      stream.destroy(
        wrapError(new Error(m.message), 'LKVOL_LAYER_CORRUPT', { message: `layer ${layer}: zstd`, hint: corruptHint }),
      );
    }
  });
  worker.on('error', (err) => stream.destroy(workerFailed(layer, err)));
  worker.on('exit', (code) => {
    if (!done && !stream.destroyed)
      stream.destroy(workerFailed(layer, new Error(`exited with code ${code} before the end of the stream`)));
  });
  return stream;
}

function workerFailed(layer: string, err: unknown): Error {
  return wrapError(err, 'LKVOL_INTERNAL', {
    message: `layer ${layer}: zstd worker`,
    hint: 'this is a bug; please report it',
  });
}
