// Validates one parsed file against the zod schema; each zod issue becomes a located ConfigIssue.
import type { core } from 'zod';
import type { ConfigIssue } from '../errors.js';
import { allowedKeys, describeSchema, describeValue, type SchemaLike } from './describe.js';
import { formatPath } from './positions.js';
import { systemFileSchema, type SystemFile } from './schema.js';
import type { DocPath } from './doc-path.js';
import type { YamlFile } from './yaml-file.js';

/** Where a file breaks the schema, as raw paths: an unknown key (the path includes it), or a bad value. */
export interface SchemaProblem {
  path: (string | number)[];
  unknownKey: boolean;
}

/** A failed check also gives the problems' paths, so the rest of the file can still be checked (salvage.ts). */
export type SchemaResult =
  { ok: true; value: SystemFile } | { ok: false; issues: ConfigIssue[]; problems: SchemaProblem[] };

/** Checks `file.data` with `systemFileSchema` (strict objects: unknown keys are issues). An empty file is `{}`. */
export function validateSchema(file: YamlFile): SchemaResult {
  const data = file.data ?? {};
  const result = systemFileSchema.safeParse(data, { reportInput: true, error: messageFor, jitless: true });
  if (result.success) return { ok: true, value: result.data };
  const problems = result.error.issues.flatMap((i): SchemaProblem[] => {
    const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
    return i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: [...path, k], unknownKey: true }))
      : [{ path, unknownKey: false }];
  });
  return { ok: false, issues: result.error.issues.flatMap((i) => locate(file, i)), problems };
}

/** Turns one final zod issue into located issues (one per unknown key). */
function locate(file: YamlFile, issue: core.$ZodIssue): ConfigIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const keyPath = [...path, k];
      return {
        ...file.locator.key(keyPath),
        path: formatPath(keyPath),
        message: `unknown key ${JSON.stringify(k)} (${issue.message})`,
      };
    });
  }
  if (issue.code === 'invalid_type' && issue.input === undefined && path.length > 0) {
    // A required key is missing: point at the mapping that lacks it.
    const parent = path.slice(0, -1);
    return [
      {
        ...file.locator.at(parent),
        path: formatPath(parent),
        message: `missing required key ${JSON.stringify(String(path[path.length - 1]))}`,
      },
    ];
  }
  if (path.length === 0 && issue.code === 'invalid_type') {
    const keys = allowedKeys(systemFileSchema).join(', ');
    return [
      {
        ...file.locator.at([]),
        path: '',
        message: `expected a mapping of top-level keys (${keys}), got ${describeValue(issue.input)}`,
      },
    ];
  }
  return [{ ...file.locator.at(path as DocPath), path: formatPath(path), message: issue.message }];
}

/** The per-parse error map: says what was expected and what was given. Messages set in the schema win over it. */
function messageFor(iss: core.$ZodRawIssue): string | undefined {
  const inst = iss.inst as SchemaLike | undefined;
  const expected = (fallback: string): string =>
    inst !== undefined && '_zod' in inst ? describeSchema(inst) : fallback;
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'missing';
      return `expected ${expected(String(iss.expected))}, got ${describeValue(iss.input)}${typeHint(iss.expected, iss.input)}`;
    case 'invalid_union':
      return `expected ${expected('another type')}, got ${describeValue(iss.input)}`;
    case 'invalid_value':
      return `expected one of ${iss.values.map((v) => String(v)).join(', ')}, got ${JSON.stringify(iss.input)}`;
    case 'unrecognized_keys':
      return `allowed: ${allowedKeys(inst).join(', ')}`;
    case 'too_small':
      return tooSmall(iss.origin, Number(iss.minimum), iss.inclusive !== false, iss.input);
    case 'too_big':
      return iss.origin === 'string' || iss.origin === 'array'
        ? `must have at most ${Number(iss.maximum)} ${iss.origin === 'string' ? 'characters' : 'entries'}`
        : `must be at most ${Number(iss.maximum)}, got ${String(iss.input)}`;
    case 'invalid_format':
      return `${JSON.stringify(iss.input)} has the wrong format`;
    default:
      return undefined;
  }
}

/** Hints for the two common YAML surprises: 1.1-style booleans and unquoted numbers where text is wanted. */
function typeHint(expected: string, input: unknown): string {
  if (expected === 'boolean' && typeof input === 'string' && /^(?:y|yes|on|n|no|off)$/i.test(input)) {
    return ` (${JSON.stringify(input)} is text in YAML 1.2; write true or false)`;
  }
  if (expected === 'string' && typeof input === 'number') return ' (put it in quotes)';
  return '';
}

function tooSmall(origin: string, minimum: number, inclusive: boolean, input: unknown): string {
  if (origin === 'string') return minimum <= 1 ? 'must not be empty' : `must have at least ${minimum} characters`;
  if (origin === 'array') return `must have at least ${minimum} entries`;
  return `${inclusive ? 'must be at least' : 'must be greater than'} ${minimum}, got ${String(input)}`;
}
