#!/usr/bin/env node
// The lkvol executable: wires process state into main() and sets the exit code (never process.exit).
import { restoreMallocArenaMax, takeExtraCaCerts } from './env.js';
import { main } from './main.js';

// cmd/lkvol.sh kept NODE_EXTRA_CA_CERTS from Node's start-up: put back for the programs lkvol starts, trusted for
// registries as Node would have trusted it. The MALLOC_ARENA_MAX it set was for this process alone.
const extraCaCerts = takeExtraCaCerts(process.env, (line) => process.stderr.write(line));
restoreMallocArenaMax(process.env);

const controller = new AbortController();
// The first Ctrl-C cancels the build cleanly (exit 130); a second one kills at once.
process.once('SIGINT', () => {
  controller.abort();
  process.once('SIGINT', () => process.kill(process.pid, 'SIGKILL'));
});
process.once('SIGTERM', () => controller.abort());

// A reader that went away (`lkvol build … 2>&1 | head`) must not end the build half way, leaving its staging
// directory: what goes to a closed pipe is dropped. A tar on stdout (`-o -`) fails its own next write, and the build
// with it, cleanly (lib/tar/writer.ts).
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });

// No top-level await: the command is also bundled as CommonJS (see cmd/start.cjs).
void main(process.argv.slice(2), {
  stdout: process.stdout,
  stdoutStream: process.stdout,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderr: process.stderr,
  isTTY: process.stderr.isTTY === true,
  columns: () => process.stderr.columns || 80,
  env: process.env,
  extraCaCerts,
  signal: controller.signal,
  cwd: process.cwd(),
  uid: process.getuid?.(),
  arch: process.arch,
}).then((code) => {
  process.exitCode = code;
});
