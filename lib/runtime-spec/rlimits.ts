// process.rlimits from `name,soft,hard` strings, as LinuxKit's ConfigToOCI parses them.
import { invalidConfig } from './fail.js';
import type { MergedConfig, SpecRlimit } from './types.js';

/** 2^64-1: what `unlimited` means (RLIM_INFINITY); too large for a JS number, hence bigint. */
export const rlimitUnlimited = 18446744073709551615n;

/** The 16 names LinuxKit accepts (runtime-spec config.md#posix-process). */
export const knownRlimits: readonly string[] = [
  'RLIMIT_CPU',
  'RLIMIT_FSIZE',
  'RLIMIT_DATA',
  'RLIMIT_STACK',
  'RLIMIT_CORE',
  'RLIMIT_RSS',
  'RLIMIT_NPROC',
  'RLIMIT_NOFILE',
  'RLIMIT_MEMLOCK',
  'RLIMIT_AS',
  'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
];

/**
 * Parses each `name,soft,hard`: the name is trimmed and upper-cased and gets `RLIMIT_` when it
 * lacks it; soft and hard are decimal uint64 or `unlimited` (any case). Order is kept.
 *
 * @throws LkvolError `LKVOL_CONFIG_INVALID` for a wrong field count, a bad number or an unknown
 *   name (LinuxKit reports `unknown limit: ` without the name; lkvol names it).
 */
export function buildRlimits(merged: MergedConfig): SpecRlimit[] {
  return (merged.rlimits ?? []).map((entry) => parseRlimit(merged, entry));
}

function parseRlimit(merged: MergedConfig, entry: string): SpecRlimit {
  // LinuxKit splits into at most 3 parts, so `nofile,1,2,3` fails on hard = "2,3".
  const parts = splitFields(entry);
  if (parts.length !== 3)
    throw invalidConfig(merged, `cannot parse rlimit ${JSON.stringify(entry)}: want name,soft,hard`);
  const [rawName = '', soft = '', hard = ''] = parts;
  let type = rawName.trim().toUpperCase();
  if (!type.startsWith('RLIMIT_')) type = `RLIMIT_${type}`;
  if (!knownRlimits.includes(type))
    throw invalidConfig(merged, `rlimit ${JSON.stringify(entry)}: unknown limit ${JSON.stringify(type)}`);
  const limit = (raw: string): bigint => {
    const value = parseLimit(raw);
    if (value === undefined) {
      throw invalidConfig(
        merged,
        `rlimit ${JSON.stringify(entry)}: cannot parse ${JSON.stringify(raw.trim())} as an unsigned 64-bit integer or "unlimited"`,
      );
    }
    return value;
  };
  const softLimit = limit(soft); // soft first, as LinuxKit reports it first
  return { type, hard: limit(hard), soft: softLimit };
}

/** A decimal uint64 or `unlimited` (any case), or undefined. */
function parseLimit(raw: string): bigint | undefined {
  const s = raw.trim();
  if (s.toLowerCase() === 'unlimited') return rlimitUnlimited;
  if (!/^\d+$/.test(s) || BigInt(s) > rlimitUnlimited) return undefined;
  return BigInt(s);
}

/** Go's strings.SplitN(s, ",", 3): at most three parts, the last holding the rest. */
function splitFields(s: string): string[] {
  const parts = s.split(',');
  return parts.length <= 3 ? parts : [...parts.slice(0, 2), parts.slice(2).join(',')];
}
