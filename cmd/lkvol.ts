#!/usr/bin/env node
// The lkvol executable: wires process state into main() and sets the exit code (never process.exit).
import { main } from './main.js';

const controller = new AbortController();
// The first Ctrl-C cancels the build cleanly (exit 130); a second one kills at once.
process.once('SIGINT', () => {
  controller.abort();
  process.once('SIGINT', () => process.kill(process.pid, 'SIGKILL'));
});
process.once('SIGTERM', () => controller.abort());

// No top-level await: the command is also bundled as CommonJS (see cmd/start.cjs).
void main(process.argv.slice(2), {
  stdout: process.stdout,
  stdoutStream: process.stdout,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderr: process.stderr,
  isTTY: process.stderr.isTTY === true,
  columns: () => process.stderr.columns || 80,
  env: process.env,
  signal: controller.signal,
  cwd: process.cwd(),
  uid: process.getuid?.(),
  arch: process.arch,
}).then((code) => {
  process.exitCode = code;
});
