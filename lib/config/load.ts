// Loads system files: YAML (with positions) → zod schema → merge → semantic checks → Config.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError, LkvolError, wrapError, type ConfigIssue } from '../errors.js';
import { sortIssues } from './issues.js';
import { finalizeDraft } from './finalize.js';
import { mergeFiles, type ValidFile } from './merge.js';
import type { SystemFile } from './schema.js';
import { salvage } from './salvage.js';
import { validateSchema } from './schema-issues.js';
import { checkDraft } from './semantic.js';
import type { Config } from './types.js';
import { parseYamlFile } from './yaml-file.js';

/** One system file's name (as shown in messages) and text. */
export interface ConfigSource {
  file: string;
  text: string;
}

/**
 * Parses and checks system files, merged in order as LinuxKit merges them (SPEC §1). Pure: no I/O.
 * Every problem is reported at once, as `file:line:col: path: message`, sorted by file, line and column.
 * @throws ConfigError LKVOL_CONFIG_SYNTAX when a file is not valid YAML (duplicate keys included).
 * @throws ConfigError LKVOL_CONFIG_INVALID when a file breaks the schema, or the merged files break a rule
 *   (volume names, unique names, references, binds of undeclared or read-only volumes, …).
 */
export function parseConfig(sources: readonly ConfigSource[]): Config {
  const files = sources.map((s) => s.file);
  const parsed = sources.map((s) => parseYamlFile(s.file, s.text));
  const yamlFiles = collect(parsed, 'LKVOL_CONFIG_SYNTAX', files);
  const checked = yamlFiles.map((f) => validateSchema(f));
  const schemaIssues = checked.flatMap((r) => (r.ok ? [] : r.issues));
  if (schemaIssues.length > 0) {
    // What the schema refuses does not stop the rules across files from being checked: every problem at once.
    const salvaged = checked.map((r, i) => (r.ok ? r.value : salvage(yamlFiles[i]!.data ?? {}, r.problems)));
    const rest = salvaged.every((v) => v !== undefined)
      ? checkDraft(mergeFiles(salvaged.map((data, i) => ({ locator: yamlFiles[i]!.locator, data: data! })))).issues
      : [];
    throw new ConfigError('LKVOL_CONFIG_INVALID', sortIssues([...schemaIssues, ...rest], files));
  }
  const valid: ValidFile[] = checked.map((r, i) => ({
    locator: yamlFiles[i]!.locator,
    data: (r as { value: SystemFile }).value,
  }));
  const draft = mergeFiles(valid);
  const { issues, warnings } = checkDraft(draft);
  if (issues.length > 0) throw new ConfigError('LKVOL_CONFIG_INVALID', sortIssues(issues, files));
  return finalizeDraft(draft, sortIssues(warnings, files));
}

/** The values when every step succeeded; otherwise throws every file's issues together. */
function collect<T>(
  results: readonly ({ ok: true; value: T } | { ok: false; issues: ConfigIssue[] })[],
  code: 'LKVOL_CONFIG_SYNTAX' | 'LKVOL_CONFIG_INVALID',
  files: readonly string[],
): T[] {
  const issues = results.flatMap((r) => (r.ok ? [] : r.issues));
  if (issues.length > 0) throw new ConfigError(code, sortIssues(issues, files));
  return results.map((r) => (r.ok ? r.value : undefined)).filter((v): v is T => v !== undefined);
}

/**
 * Reads the system files (relative ones from `cwd`, default the process's) and parses them with
 * `parseConfig`; messages name each file as given.
 * @throws LkvolError LKVOL_USAGE when no file is given or a file does not exist or is a directory.
 * @throws LkvolError LKVOL_IO when a file cannot be read; LKVOL_CANCELLED when `signal` aborts.
 * @throws ConfigError LKVOL_CONFIG_SYNTAX or LKVOL_CONFIG_INVALID as `parseConfig`.
 */
export async function loadConfig(
  files: readonly string[],
  opts: { signal?: AbortSignal; cwd?: string } = {},
): Promise<Config> {
  if (files.length === 0)
    throw new LkvolError('LKVOL_USAGE', 'no system file given', { hint: 'name one or more YAML system files' });
  const path = (file: string) => (opts.cwd === undefined ? file : resolve(opts.cwd, file));
  const sources = await Promise.all(
    files.map(async (file) => ({ file, text: await readSystemFile({ file, path: path(file) }, opts.signal) })),
  );
  return parseConfig(sources);
}

/** Reads `path`; errors name `file`, the name the user gave. */
async function readSystemFile(
  { file, path }: { file: string; path: string },
  signal: AbortSignal | undefined,
): Promise<string> {
  try {
    return await readFile(path, signal === undefined ? { encoding: 'utf8' } : { encoding: 'utf8', signal });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') {
      const why = code === 'EISDIR' ? 'is a directory' : 'does not exist';
      throw new LkvolError('LKVOL_USAGE', `system file ${JSON.stringify(file)} ${why}`, {
        cause: err,
        hint: 'check the file name',
      });
    }
    throw wrapError(err, 'LKVOL_IO', `read system file ${JSON.stringify(file)}`);
  }
}
