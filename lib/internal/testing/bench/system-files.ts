// The system files the bench builds: one volume per image, and a two-volume system.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A volume of a bench system: its name and the image reference it is seeded from. */
export interface BenchVolume {
  name: string;
  ref: string;
}

/** Writes `dir/<file>` declaring `volumes` (and nothing else) and returns its path. */
export async function writeSystemFile(dir: string, file: string, volumes: readonly BenchVolume[]): Promise<string> {
  const path = join(dir, file);
  const lines = ['volumes:', ...volumes.flatMap((v) => [`  - name: ${v.name}`, `    image: ${v.ref}`])];
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}
