// Test helper: a small tmpfs of its own, to make the output file system fill up for real.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/**
 * Mounts a tmpfs of `bytes` on a new temporary directory; after the test `t` it is unmounted and
 * the directory removed. Needs root (CAP_SYS_ADMIN), as the tests that use it assert.
 */
export async function smallTmpfs(t: { after(fn: () => Promise<void>): void }, bytes: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lkvol-tmpfs-'));
  await execa('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir]);
  t.after(async () => {
    await execa('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}
