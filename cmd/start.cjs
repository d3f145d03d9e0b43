// The lkvol command's loader (CommonJS on purpose: V8's code cache is reachable from vm.Script only).
// It runs dist/bundle/lkvol.cjs with the code cache make build wrote beside it, so the 1.7 MB bundle
// is not compiled again on every run (~50 ms of a ~200 ms start). A cache V8 rejects (another Node,
// other flags) or a missing one only costs that compilation. LKVOL_CODE_CACHE=write (make build)
// writes the cache after the run; LKVOL_CODE_CACHE=report says on stderr whether it was used, and at exit what
// V8's flags and compilers came to.
'use strict';
const v8 = require('node:v8');

// V8 reads --max-semi-space-size (cmd/lkvol.sh) only when it sets a heap up, and this thread's is set up by now. Any
// V8 flag off its default also makes V8 refuse the code cache Node ships for its own modules, in this thread and in
// every worker (~10 ms more to start lkvol here, ~15–20 ms more to start a worker). Set back to its default, it no
// longer does, and this heap keeps the small young generation it was set up with; lkvol's workers get the same through
// their resourceLimits (startWorker in lib/internal/builtin.ts).
v8.setFlagsFromString('--max-semi-space-size=0');

// undici parses HTTP with llhttp, a WebAssembly module it compiles (new WebAssembly.Module) on its first connection.
// V8 would run it with Liftoff's code, then compile its hot functions again with TurboFan on a background thread:
// ~40 ms of CPU and ~35 MB in every run, on a second core the registry and the walks want too, and Node waits for an
// unfinished one before its event loop may end (0–25 ms; a warm no-change rebuild took 262 against 211 ms without it).
// Liftoff's code parses fast enough: 395 MB downloaded in 446–496 against 510–600 ms. So a module compiles eagerly
// with Liftoff alone, which leaves its code no tier-up checks. These flags are process-wide and in V8's flag hash
// (above): they hold only while a module compiles, then go back to their defaults. Measured on V8 11.3 (Node 20)
// alone: other versions name and imply these flags otherwise, and V8 reports any flag it does not know on stderr, so
// there V8 compiles as it would.
if (typeof WebAssembly === 'object' && process.versions.v8.startsWith('11.3.')) {
  const WasmModule = WebAssembly.Module;
  WebAssembly.Module = new Proxy(WasmModule, {
    construct(target, args, newTarget) {
      v8.setFlagsFromString('--liftoff-only --no-wasm-lazy-compilation');
      try {
        return Reflect.construct(target, args, newTarget);
      } finally {
        // --liftoff-only turned both tier-up flags off too.
        v8.setFlagsFromString('--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering --wasm-lazy-compilation');
      }
    },
  });
}

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { Module } = require('node:module');

const file = path.join(__dirname, 'lkvol.cjs');
const cacheFile = `${file}.cache`;
const mode = process.env.LKVOL_CODE_CACHE;
// The entry's #! line is no JavaScript outside a module file: made a comment, line numbers kept.
const source = fs.readFileSync(file, 'utf8').replace(/^#!/, '//');
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
// No dynamic import() may run in the bundle: with cached data Node 20 drops the callback it needs.
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
if (mode === 'report') {
  process.stderr.write(
    `lkvol code cache: ${cachedData === undefined ? 'missing' : script.cachedDataRejected ? 'rejected' : 'used'}` +
      ` (V8 tag ${v8.cachedDataVersionTag()})\n`,
  );
  // The flags the run leaves (their hash decides which code caches V8 takes) and what V8's compilers took at most.
  process.once('exit', () => {
    const peak = v8.getHeapStatistics().peak_malloced_memory / 2 ** 20;
    process.stderr.write(`lkvol V8 at exit: tag ${v8.cachedDataVersionTag()}, compilers' peak ${peak.toFixed(1)} MB\n`);
  });
}
if (mode === 'write') {
  // After the run, so the functions it compiled are in the cache too.
  process.once('exit', () => {
    const temp = `${cacheFile}.${process.pid}`;
    fs.writeFileSync(temp, script.createCachedData());
    fs.renameSync(temp, cacheFile);
  });
}
// The bundle's own require (resolve, cache and all), finding packages from its directory up.
const bundleModule = { exports: {} };
script.runInThisContext()(bundleModule.exports, Module.createRequire(file), bundleModule, file, __dirname);
