// Node built-ins loaded on first use: every module loaded at start-up costs every run, used or not.
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/** child_process, for the few builds that run a provisioner or make device nodes (~2 ms of every start). */
export function childProcess(): typeof import('node:child_process') {
  return requireHere('node:child_process') as typeof import('node:child_process');
}

/**
 * The young generation of lkvol's workers, in MiB: the command's (--max-semi-space-size=4 in cmd/lkvol.sh, three
 * semi-spaces), which V8 no longer applies to new threads once cmd/start.cjs has set the flag back to its default.
 */
const workerYoungGenerationMb = 12;

/**
 * A worker thread running `url`, with lkvol's small young generation. worker_threads is loaded on first use: only
 * zstd layers without a native decoder and the walks of a large previous output need it (~1.5 ms of every start).
 */
export function startWorker(url: URL, workerData?: unknown): import('node:worker_threads').Worker {
  const { Worker } = requireHere('node:worker_threads') as typeof import('node:worker_threads');
  return new Worker(url, { workerData, resourceLimits: { maxYoungGenerationSizeMb: workerYoungGenerationMb } });
}
