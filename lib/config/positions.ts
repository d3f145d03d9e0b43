// Maps a path inside a YAML document to file:line:col, and renders paths as `services[0].binds.add[2]`.
import { isMap, isScalar, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import type { DocPath } from './doc-path.js';
import type { SourcePos } from './types.js';
export { formatPath } from './doc-path.js';

/** Finds the source position of nodes in one parsed file. */
export interface Locator {
  file: string;
  /** The node at `path`, or its nearest existing ancestor (a missing key points at its mapping). */
  at(path: DocPath): SourcePos;
  /** The key of the mapping entry at `path` (for unknown keys); falls back to `at`. */
  key(path: DocPath): SourcePos;
}

/** A locator over `doc`, whose offsets `lineCounter` maps to lines. */
export function createLocator(file: string, doc: Document, lineCounter: LineCounter): Locator {
  const posOf = (offset: number): SourcePos => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const start: SourcePos = { file, line: 1, column: 1 };
  return {
    file,
    at(path) {
      const found = findNode(doc, path);
      return found === undefined ? start : posOf(found);
    },
    key(path) {
      const pair = findPair(doc, path);
      const keyNode = pair?.key as Node | undefined;
      if (keyNode?.range != null) return posOf(keyNode.range[0]);
      return this.at(path);
    },
  };
}

/** Offset of the deepest existing node along `path`. An empty value (`binds:`) points at its key. */
function findNode(doc: Document, path: DocPath): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const prefix = path.slice(0, n);
    const node = doc.getIn(prefix, true) as Node | undefined;
    if (node?.range == null) continue;
    if (n > 0 && isScalar(node) && node.value === null && node.source === '') {
      const keyNode = findPair(doc, prefix)?.key as Node | undefined;
      if (keyNode?.range != null) return keyNode.range[0];
    }
    return node.range[0];
  }
  return undefined;
}

/** The mapping entry addressed by `path` (its last element must be a key). */
function findPair(doc: Document, path: DocPath): Pair | undefined {
  const last = path[path.length - 1];
  if (typeof last !== 'string') return undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  return parent.items.find((p) => isScalar(p.key) && String(p.key.value) === last);
}
