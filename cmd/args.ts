// Flag parsing on top of node:util parseArgs, turning its errors into LKVOL_USAGE.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { editDistance, LkvolError, parseSize } from '../lib/index.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

/** Parses `args` strictly; unknown flags and missing values are LKVOL_USAGE errors naming the command. */
export function parseFlags<O extends Options>(command: string, args: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify .*$/s, '');
    const unknown = /^Unknown option '(--?[^']+)'/.exec(message)?.[1];
    const near =
      unknown === undefined ? undefined : nearest(unknown.replace(/^-+/, ''), [...Object.keys(options), 'help']);
    throw new LkvolError(
      'LKVOL_USAGE',
      `${command}: ${message}${near === undefined ? '' : `; did you mean --${near}?`}`,
      {
        hint: `run "lkvol ${command} --help"`,
        cause: err,
      },
    );
  }
}

/** The candidate closest to `word` (edit distance at most 2, or a third of a long word, never more than 3), if any. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (best === undefined || d < best.d) best = { c, d };
  }
  return best !== undefined && best.d <= Math.min(3, Math.max(2, Math.floor(word.length / 3))) ? best.c : undefined;
}

/** A size flag (`--max-bytes`): bytes, or the units of a volume's `sizeLimit` (`512Mi`, `2G`). */
export function sizeFlag(command: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = parseSize(value);
  if (!parsed.ok)
    throw new LkvolError('LKVOL_USAGE', `${command}: --${flag}: ${parsed.reason}`, {
      hint: `run "lkvol ${command} --help"`,
    });
  return parsed.bytes;
}

/** `CI` set to anything but empty, `false` or `0` (what CI services set: `true`, `1`). */
export function isCI(env: Record<string, string | undefined>): boolean {
  const v = env['CI']?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

/** Parses a positive integer flag value; undefined when the flag was not given. */
export function positiveInt(command: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new LkvolError(
      'LKVOL_USAGE',
      `${command}: --${flag} must be a positive integer, got ${JSON.stringify(value)}`,
      { hint: `run "lkvol ${command} --help"` },
    );
  return n;
}

/** Requires at least one system file. */
export function requireFiles(command: string, files: string[]): void {
  if (files.length === 0)
    throw new LkvolError('LKVOL_USAGE', `${command}: no system file given`, {
      hint: `run "lkvol ${command} system.yml"`,
    });
}
