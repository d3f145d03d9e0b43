// Renders a path inside a system file the way a user writes it: `services[0].binds.add[2]`. Pure.
/** A path inside a YAML document: mapping keys and sequence indexes. */
export type DocPath = readonly (string | number)[];

/** Renders a document path: keys joined with `.`, indexes as `[n]`, odd keys quoted. */
export function formatPath(path: DocPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z0-9_.-]+$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}
