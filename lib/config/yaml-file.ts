// Parses one system file's YAML text into plain data plus a locator; syntax problems become issues.
import { isCollection, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { ConfigIssue } from '../errors.js';
import { createLocator, type Locator } from './positions.js';

/** One system file after YAML parsing. */
export interface YamlFile {
  file: string;
  doc: Document;
  locator: Locator;
  /** `doc.toJS()`; null for an empty file. */
  data: unknown;
}

export type YamlResult = { ok: true; value: YamlFile } | { ok: false; issues: ConfigIssue[] };

/**
 * Parses YAML 1.2 with unique keys and `<<` merge keys (LinuxKit's go-yaml accepts both).
 * Every syntax error, warning, unresolvable alias or non-string key is an issue.
 */
export function parseYamlFile(file: string, text: string): YamlResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
    logLevel: 'error',
  });
  const locator = createLocator(file, doc, lineCounter);
  const at = (offset: number, message: string): ConfigIssue => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col, path: '', message };
  };
  const issues = [...doc.errors, ...doc.warnings].map((e) =>
    at(e.pos[0], describeYamlError(e.code, e.message, text, e.pos[0])),
  );
  if (issues.length === 0) issues.push(...structureProblems(doc).map((p) => at(p.offset, p.message)));
  if (issues.length > 0) return { ok: false, issues };
  try {
    return { ok: true, value: { file, doc, locator, data: doc.toJS({ maxAliasCount: 100 }) } };
  } catch (err) {
    // Unresolved aliases and alias bombs surface only when converting to plain data.
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, issues: [at(doc.contents?.range?.[0] ?? 0, lowerFirst(message))] };
  }
}

/** A short, lower-case message; duplicate keys name the key. */
function describeYamlError(code: string, message: string, text: string, offset: number): string {
  if (code === 'MULTIPLE_DOCS')
    return 'a system file holds one YAML document; remove the second "---" or split the file';
  if (code === 'DUPLICATE_KEY') {
    const key = /^[^\s:#,[\]{}]+|^"[^"]*"|^'[^']*'/.exec(text.slice(offset))?.[0];
    return key === undefined
      ? 'duplicate key'
      : `duplicate key ${key.startsWith('"') || key.startsWith("'") ? key : JSON.stringify(key)}`;
  }
  return lowerFirst(message);
}

function lowerFirst(s: string): string {
  return s.length > 0 && /^[A-Z][a-z]/.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s;
}

/** Keys that are collections (`? [a, b]: c`, which JSON objects cannot hold) and aliases with no anchor before them. */
function structureProblems(doc: Document): { offset: number; message: string }[] {
  const found: { offset: number; message: string }[] = [];
  visit(doc, {
    Pair(_, pair) {
      if (isCollection(pair.key))
        found.push({ offset: pair.key.range?.[0] ?? 0, message: 'mapping keys must be strings' });
    },
    Alias(_, alias) {
      if (alias.resolve(doc) === undefined) {
        found.push({
          offset: alias.range?.[0] ?? 0,
          message: `unknown alias "*${alias.source}" (define the anchor "&${alias.source}" before using it)`,
        });
      }
    },
  });
  return found;
}
