// Test helper: runs the CLI's main() in this process, output captured, and parses its NDJSON lines; test-only, so never
// packed (package.json files).
import { main } from '../../../cmd/main.js';

/** What one in-process run of the CLI produced. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `lkvol <args>` through main() with `env` as the whole environment, as on linux/amd64, not a TTY. */
export async function runInProcess(args: string[], o: { env: Record<string, string>; cwd: string }): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    isTTY: false,
    env: o.env,
    signal: new AbortController().signal,
    cwd: o.cwd,
    uid: process.getuid?.(),
    arch: 'x64',
  });
  return { code, stdout, stderr };
}

/** The NDJSON lines of `--json` progress and warnings on stderr, parsed. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
