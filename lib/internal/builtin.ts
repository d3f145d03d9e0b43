// Node built-ins loaded on first use: every module loaded at start-up is compiled on every run, and the
// lkvol command's V8 flag (--max-semi-space-size) makes V8 refuse Node's own code cache for them.
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/** child_process, for the few builds that run a provisioner or make device nodes (~2 ms of every start). */
export function childProcess(): typeof import('node:child_process') {
  return requireHere('node:child_process') as typeof import('node:child_process');
}

/** worker_threads, for the few builds that unpack zstd layers without a native decoder (~1.5 ms of every start). */
export function workerThreads(): typeof import('node:worker_threads') {
  return requireHere('node:worker_threads') as typeof import('node:worker_threads');
}
