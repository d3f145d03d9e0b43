// The host-path bind policy file (`--policy FILE`): which host directories containers may bind, read as YAML
// with positions and checked with a schema, so its own problems are reported as file:line:col too.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as z from 'zod';
import { parseYamlFile, type SourcePos } from '../config/index.js';
import { ConfigError, wrapError, type ConfigIssue } from '../errors.js';
import { normalizeHostPath } from './paths.js';

export interface PolicyRule {
  /** Normalised absolute path. */
  path: string;
  readOnly: boolean;
  /** `hostPaths.allow[2]`, and where the file says it. */
  name: string;
  pos: SourcePos;
}

export interface Policy {
  file: string;
  allow: PolicyRule[];
  deny: PolicyRule[];
}

const schema = z.strictObject({
  hostPaths: z
    .strictObject({
      allow: z.array(z.strictObject({ path: z.string(), readOnly: z.boolean().optional() })).optional(),
      deny: z.array(z.string()).optional(),
    })
    .optional(),
});

/**
 * Reads a policy file. Paths must be absolute and free of `..`; they are normalised (`.`, repeated
 * and trailing slashes) as bind sources are.
 * @throws ConfigError LKVOL_CONFIG_SYNTAX / LKVOL_CONFIG_INVALID naming file:line:col; LKVOL_IO when unreadable.
 */
export async function loadPolicy(file: string, cwd: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (err) {
    throw wrapError(err, 'LKVOL_IO', {
      message: `read policy file ${JSON.stringify(file)}`,
      hint: 'check the --policy path',
    });
  }
  return parsePolicy(file, text);
}

/** Parses a policy file's text (see {@link loadPolicy}). */
export function parsePolicy(file: string, text: string): Policy {
  const hint = { hint: 'fix the listed lines; see the README section "Host-path bind policy"' };
  const yaml = parseYamlFile(file, text);
  if (!yaml.ok) throw new ConfigError('LKVOL_CONFIG_SYNTAX', yaml.issues, hint);
  const parsed = schema.safeParse(yaml.value.data ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i): ConfigIssue => {
      const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
      return { ...yaml.value.locator.at(path), path: path.join('.'), message: i.message };
    });
    throw new ConfigError('LKVOL_CONFIG_INVALID', issues, hint);
  }
  const issues: ConfigIssue[] = [];
  const rule = (raw: string, readOnly: boolean, name: string, at: (string | number)[]): PolicyRule | undefined => {
    const pos = yaml.value.locator.at(at);
    const n = normalizeHostPath(raw);
    const problem = !raw.startsWith('/')
      ? 'must be an absolute path'
      : n.dotdot
        ? `must not contain ".." (it would mean ${n.path})`
        : undefined;
    if (problem !== undefined) {
      issues.push({ ...pos, path: name, message: `${JSON.stringify(raw)} ${problem}` });
      return undefined;
    }
    return { path: n.path, readOnly, name, pos };
  };
  const hostPaths = parsed.data.hostPaths ?? {};
  const allow = (hostPaths.allow ?? []).map((a, i) =>
    rule(a.path, a.readOnly === true, `hostPaths.allow[${i}]`, ['hostPaths', 'allow', i, 'path']),
  );
  const deny = (hostPaths.deny ?? []).map((d, i) => rule(d, false, `hostPaths.deny[${i}]`, ['hostPaths', 'deny', i]));
  if (issues.length > 0) throw new ConfigError('LKVOL_CONFIG_INVALID', issues, hint);
  return {
    file,
    allow: allow.filter((r): r is PolicyRule => r !== undefined),
    deny: deny.filter((r): r is PolicyRule => r !== undefined),
  };
}
