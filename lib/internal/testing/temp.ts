// Test helper: a temporary directory removed when the test ends.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Makes `$TMPDIR/lkvol-<name>-XXXXXX` and removes it, whatever is in it, after the test `t`. */
export async function tempDir(t: { after(fn: () => Promise<void>): void }, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `lkvol-${name}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
