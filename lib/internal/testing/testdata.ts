// Locates the repository's testdata/ from compiled code in dist/ or a helper's build dir.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of `testdata/<parts>` found by walking up from this file to package.json. */
export function testdataPath(...parts: string[]): string {
  return join(repoRoot(), 'testdata', ...parts);
}

/** The directory holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}
