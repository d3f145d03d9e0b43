// Test helper: what an earlier lkvol build leaves in OUT, as the output guard recognises it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packTar } from '../../tar/index.js';

/** The lkvol.json of a build with nothing in it: every field a build record has. */
export const emptyRecordJson =
  JSON.stringify({ containers: [], images: {}, lkvolVersion: '0.1.0', platform: 'linux/amd64', volumes: [] }, null, 2) +
  '\n';

/** Makes `dir` (and its parents) an earlier lkvol output: `containers/` with a marker file and that lkvol.json. */
export async function writeEarlierOutput(dir: string, marker = 'earlier'): Promise<void> {
  await mkdir(join(dir, 'containers'), { recursive: true });
  await writeFile(join(dir, 'containers', 'marker'), marker);
  await writeFile(join(dir, 'lkvol.json'), emptyRecordJson);
}

/** Writes at `path` an earlier lkvol tar output: a tar whose lkvol.json member is that record. */
export async function writeEarlierTar(path: string): Promise<void> {
  const header = { name: 'lkvol.json', type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: 0 };
  await writeFile(path, await packTar([{ header, content: emptyRecordJson }]));
}
