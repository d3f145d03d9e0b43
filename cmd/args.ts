// Flag parsing on top of node:util parseArgs, turning its errors into LKVOL_USAGE.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LkvolError } from '../lib/index.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** Parses `args` strictly; unknown flags and missing values are LKVOL_USAGE errors naming the command. */
export function parseFlags<O extends Options>(command: string, args: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new LkvolError('LKVOL_USAGE', `${command}: ${(err as Error).message.replace(/\. To specify .*$/s, '')}`, {
      hint: `run "lkvol ${command} --help"`,
      cause: err,
    });
  }
}

/** Parses a positive integer flag value; undefined when the flag was not given. */
export function positiveInt(command: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new LkvolError('LKVOL_USAGE', `${command}: --${flag} must be a positive integer, got ${JSON.stringify(value)}`, { hint: `run "lkvol ${command} --help"` });
  return n;
}

/** Requires at least one system file. */
export function requireFiles(command: string, files: string[]): void {
  if (files.length === 0) throw new LkvolError('LKVOL_USAGE', `${command}: no system file given`, { hint: `run "lkvol ${command} system.yml"` });
}
