// Test helper: images a LinuxKit test.sh builds itself with `docker build -t NAME DIR` (e.g. kmod-test), and their
// Dockerfiles.
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { expandVariables, readAssignments, splitShellWords } from './shell-words.js';

/**
 * Maps each image name a script tags with `docker build -t` to the Dockerfile it builds (relative to the
 * checkout). Several scripts may build one name; the first script in `scripts` order wins.
 */
export async function findLocallyBuiltImages(root: string, scripts: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const script of scripts) {
    const text = await readFile(join(root, script), 'utf8');
    const vars = readAssignments(text);
    for (const line of text.split('\n')) {
      const words = splitShellWords(line).map((t) => t.text);
      const at = words.findIndex((w, i) => w === 'docker' && words[i + 1] === 'build');
      if (at === -1) continue;
      const tagAt = words.findIndex((w, i) => i > at && (w === '-t' || w === '--tag'));
      const name = expandVariables(words[tagAt + 1] ?? '', vars);
      const context = words.slice(tagAt + 2).find((w) => !w.startsWith('-'));
      if (tagAt === -1 || name === undefined || name === '' || context === undefined || out.has(name)) continue;
      out.set(name, posix.normalize(posix.join(posix.dirname(script), context, 'Dockerfile')));
    }
  }
  return out;
}
