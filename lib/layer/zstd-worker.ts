// Worker thread: decodes one zstd stream with fzstd off the main event loop, paced by the main thread.
import { parentPort } from 'node:worker_threads';
import { Decompress } from 'fzstd';
import type { ToWorker, FromWorker } from './zstd.js';

/**
 * Input is pushed to fzstd in slices this small because fzstd decodes everything a push completes
 * before returning: an RLE block is 4 bytes that expand to 128 KiB, so one slice can yield at most
 * 8 MiB however hostile the stream is (measured: no slower than 64 KiB slices).
 */
const sliceBytes = 256;
/** Output is posted in batches of about this size; after each, the worker waits for an ack. */
const batchBytes = 1024 * 1024;

const port = parentPort;
if (port === null) throw new Error('zstd-worker.js must run in a worker thread');

let pending: Uint8Array[] = [];
let pendingBytes = 0;
let acked: (() => void) | undefined;
const decoder = new Decompress((data) => {
  if (data.length === 0) return;
  pending.push(data);
  pendingBytes += data.length;
});

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

/** Posts what was decoded and waits until the main thread wants more (backpressure). */
async function flush(): Promise<void> {
  if (pendingBytes === 0) return;
  const out = Buffer.allocUnsafeSlow(pendingBytes);
  let at = 0;
  for (const p of pending) {
    out.set(p, at);
    at += p.length;
  }
  [pending, pendingBytes] = [[], 0];
  const ack = new Promise<void>((resolve) => (acked = resolve));
  post({ type: 'out', data: out }, [out.buffer as ArrayBuffer]);
  await ack;
}

async function handle(message: ToWorker): Promise<void> {
  if (message.type === 'data') {
    const chunk = message.chunk;
    for (let at = 0; at < chunk.length; at += sliceBytes) {
      decoder.push(chunk.subarray(at, at + sliceBytes));
      if (pendingBytes >= batchBytes) await flush();
    }
    await flush();
    post({ type: 'consumed' });
  } else {
    decoder.push(new Uint8Array(0), true);
    await flush();
    post({ type: 'finished' });
  }
}

// Messages are handled one at a time, in order; an ack resolves the flush that is waiting for it.
let queue = Promise.resolve();
let failed = false;
port.on('message', (message: ToWorker | { type: 'ack' }) => {
  if (message.type === 'ack') {
    acked?.();
    return;
  }
  queue = queue.then(async () => {
    if (failed) return;
    try {
      await handle(message);
    } catch (err) {
      failed = true;
      post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  });
});
