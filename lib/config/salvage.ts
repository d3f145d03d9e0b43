// What of a file that breaks the schema can still be checked: so rule problems (names, duplicates,
// undeclared or read-only volumes) are reported together with the schema's, as the README promises.
import { systemFileSchema, type SystemFile } from './schema.js';
import type { SchemaProblem } from './schema-issues.js';

const sections = new Set(['volumes', 'onboot', 'services', 'onshutdown']);
/** Sections lkvol reads but does not build: a bad one can simply go. */
const passedOver = new Set(['kernel', 'init', 'files', 'trust']);
/** Stands in for an image that is not a string: a valid reference, so it adds no problem of its own. */
const placeholderImage = 'lkvol.invalid/unreadable-entry:0';

/**
 * The file's data with its problems taken out, when the result passes the schema; undefined when it
 * cannot be (the file is not a mapping, a section is not a list, …). Unknown keys are dropped. An
 * entry with a bad value is replaced by what other entries may refer to — a volume by `{name}`, a
 * container by `{name, image}` — so no rule reports a problem the file does not have (a bind to a
 * volume whose entry was unreadable is not "undeclared"); its own fields are not checked further.
 */
export function salvage(data: unknown, problems: readonly SchemaProblem[]): SystemFile | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const copy = structuredClone(data) as Record<string, unknown>;
  const replaced = new Set<string>();
  for (const { path, unknownKey } of problems) {
    const [top, index] = path;
    if (typeof top !== 'string') return undefined;
    if (unknownKey) {
      removeAt(copy, path);
    } else if (passedOver.has(top)) {
      delete copy[top];
    } else if (sections.has(top) && typeof index === 'number' && Array.isArray(copy[top])) {
      const key = `${top}[${index}]`;
      if (replaced.has(key)) continue;
      replaced.add(key);
      const list = copy[top] as unknown[];
      list[index] = standIn(top, list[index]);
    } else {
      return undefined;
    }
  }
  for (const top of sections)
    if (Array.isArray(copy[top])) copy[top] = (copy[top] as unknown[]).filter((e) => e !== undefined);
  const again = systemFileSchema.safeParse(copy, { jitless: true });
  return again.success ? again.data : undefined;
}

/** What stays of an unreadable entry: its name (and a container's image when it is a string), or nothing. */
function standIn(section: string, entry: unknown): unknown {
  const fields =
    entry !== null && typeof entry === 'object' && !Array.isArray(entry) ? (entry as Record<string, unknown>) : {};
  if (typeof fields['name'] !== 'string') return undefined;
  if (section === 'volumes') return { name: fields['name'] };
  return { name: fields['name'], image: typeof fields['image'] === 'string' ? fields['image'] : placeholderImage };
}

function removeAt(root: Record<string, unknown>, path: readonly (string | number)[]): void {
  let node: unknown = root;
  for (const p of path.slice(0, -1)) node = (node as Record<string | number, unknown> | undefined)?.[p];
  if (node !== null && typeof node === 'object')
    delete (node as Record<string | number, unknown>)[path[path.length - 1]!];
}
