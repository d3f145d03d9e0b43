// Bench progress: one line per step on stderr, stamped with the seconds since the bench started.
const started = process.hrtime.bigint();

/** Seconds since the bench started. */
export function elapsedSeconds(): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Prints `[   12.3s] message` on stderr (results go to stdout). */
export function log(message: string): void {
  process.stderr.write(`[${elapsedSeconds().toFixed(1).padStart(7)}s] ${message}\n`);
}

/** `1234567` → `1.2 MiB`. */
export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
