// Building and ordering config issues found by the semantic checks.
import type { ConfigIssue } from '../errors.js';
import { formatPath } from './positions.js';
import type { DocPath } from './doc-path.js';
import type { EntrySource } from './types.js';

/** An issue at `path` inside an entry (`['binds', 2]` of `services[0]` → `services[0].binds[2]`). */
export function issueAt(src: EntrySource, path: DocPath, message: string): ConfigIssue {
  const suffix = formatPath(path);
  const full = suffix === '' ? src.path : suffix.startsWith('[') ? src.path + suffix : `${src.path}.${suffix}`;
  return { ...src.positionOf(path), path: full, message };
}

/** `file:line:col` of an entry's node, for "first declared at" references. */
export function where(src: EntrySource, path: DocPath): string {
  const p = src.positionOf(path);
  return `${p.file}:${p.line}:${p.column}`;
}

/** Sorts issues by file (in the order the files were given), then line, then column; stable otherwise. */
export function sortIssues<T extends ConfigIssue>(issues: readonly T[], files: readonly string[]): T[] {
  const rank = (f: string): number => {
    const i = files.indexOf(f);
    return i === -1 ? files.length : i;
  };
  return [...issues].sort((a, b) => rank(a.file) - rank(b.file) || a.line - b.line || a.column - b.column);
}
