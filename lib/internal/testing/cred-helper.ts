// Test helper: a fake docker-credential-<name> shell script in a temp dir to put on PATH.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How the fake helper answers `get` for one server URL. */
export type HelperAnswer =
  | { username: string; secret: string }
  | { notFound: true }
  /** Fails with this exit code after printing `stderr` (which tests check never reaches a message). */
  | { fail: number; stderr: string };

export interface FakeHelper {
  /** The directory holding `docker-credential-<name>`; prepend it to PATH. */
  dir: string;
  /** `dir` in front of a PATH that still finds `sh` and `cat`. */
  path: string;
  /** A file the script appends each server URL it was asked about to (one per line). */
  log: string;
  remove(): Promise<void>;
}

/**
 * Writes `docker-credential-<name>` answering per server URL (read from stdin, as the real protocol);
 * unknown URLs get "credentials not found in native keychain" and exit 1.
 */
export async function createFakeHelper(name: string, answers: Record<string, HelperAnswer>): Promise<FakeHelper> {
  const dir = await mkdtemp(join(tmpdir(), 'lkvol-helper-'));
  const log = join(dir, 'asked.log');
  const cases = Object.entries(answers).map(([url, a]) => `  ${shellQuote(url)}) ${answerScript(a)} ;;`);
  const script = [
    '#!/bin/sh',
    '[ "$1" = get ] || { echo "unsupported: $1" >&2; exit 2; }',
    'url=$(cat)',
    `printf '%s\\n' "$url" >> ${shellQuote(log)}`,
    'case "$url" in',
    ...cases,
    `  *) ${answerScript({ notFound: true })} ;;`,
    'esac',
    '',
  ].join('\n');
  const file = join(dir, `docker-credential-${name}`);
  await writeFile(file, script);
  await chmod(file, 0o755);
  return {
    dir,
    path: `${dir}:/usr/local/bin:/usr/bin:/bin`,
    log,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

function answerScript(a: HelperAnswer): string {
  if ('notFound' in a) return "echo 'credentials not found in native keychain'; exit 1";
  if ('fail' in a) return `echo ${shellQuote(a.stderr)} >&2; echo ${shellQuote(a.stderr)}; exit ${a.fail}`;
  const json = JSON.stringify({ ServerURL: '', Username: a.username, Secret: a.secret });
  return `printf '%s\\n' ${shellQuote(json)}`;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
