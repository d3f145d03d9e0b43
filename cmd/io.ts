// What a command may touch of the outside world, injected so tests can capture it.
import type { Writable } from 'node:stream';
export interface CommandIO {
  stdout: { write(s: string): unknown };
  /** The same stdout as a byte stream, for `build -o -` (the executable passes process.stdout; absent in-process). */
  stdoutStream?: Writable | undefined;
  /** Whether stdout is a terminal (a tar is never written to one). */
  stdoutIsTTY?: boolean | undefined;
  stderr: { write(s: string): unknown };
  /** Whether stderr is a terminal (progress bars). */
  isTTY: boolean;
  /** The terminal's width now, when stderr is one. */
  columns?: (() => number) | undefined;
  env: Record<string, string | undefined>;
  /** NODE_EXTRA_CA_CERTS's certificates (PEM) when Node did not load them at start-up (see cmd/lkvol.sh). */
  extraCaCerts?: string | undefined;
  /** Aborted on SIGINT. */
  signal: AbortSignal;
  /** Working directory relative paths are taken from. */
  cwd: string;
  /** The running user's uid, or undefined on platforms without one. */
  uid: number | undefined;
  /** Node's `process.arch`, for the default platform. */
  arch: string;
}

/** A subcommand: parses its flags, calls one lib function, renders; returns the exit code. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CommandIO): Promise<number>;
}
