// Reads the README's tables, so tests can pin a catalogue in code (error codes, warning codes) to its documentation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './testdata.js';

/**
 * The body rows of the first table under the README heading `heading` (e.g. `### Warnings`), each as
 * its trimmed cells with backticks removed; throws when the heading or its table is missing.
 */
export function readmeTable(heading: string): string[][] {
  const lines = readFileSync(join(repoRoot(), 'README.md'), 'utf8').split('\n');
  const at = lines.indexOf(heading);
  if (at < 0) throw new Error(`README.md has no heading ${JSON.stringify(heading)}`);
  const start = lines.findIndex((l, i) => i > at && l.startsWith('|'));
  if (start < 0 || lines.slice(at + 1, start).some((l) => l.startsWith('#')))
    throw new Error(`README.md has no table under ${JSON.stringify(heading)}`);
  const rows: string[][] = [];
  // Skip the header row and the --- row.
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++)
    rows.push(
      lines[i]!.slice(1, lines[i]!.endsWith('|') ? -1 : undefined)
        .split('|')
        .map((c) => c.trim().replaceAll('`', '')),
    );
  return rows;
}
