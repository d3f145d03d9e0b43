// Cold runs start with an empty page cache: `sync; echo 3 > /proc/sys/vm/drop_caches` (root only).
// Every timed run starts after a `sync`, so no writeback of the previous run competes with it.
import { writeFile } from 'node:fs/promises';
import { execa } from 'execa';

/** Prepares the page cache for a timed run. */
export interface CacheDropper {
  /** Whether `drop` really drops caches. */
  readonly enabled: boolean;
  /** Why caches are not dropped ('' when they are). */
  readonly reason: string;
  /** Syncs, then drops the page, dentry and inode caches when enabled. */
  drop(): Promise<void>;
  /** Syncs only: warm caches, nothing left to write back. */
  sync(): Promise<void>;
}

/** Tries one drop now: as non-root, or where /proc/sys is read-only (a container), only `sync` is done. */
export async function createCacheDropper(): Promise<CacheDropper> {
  const sync = async (): Promise<void> => {
    await execa('sync');
  };
  const drop = async (): Promise<void> => {
    await sync();
    await writeFile('/proc/sys/vm/drop_caches', '3\n');
  };
  if (process.getuid?.() !== 0) return { enabled: false, reason: 'not running as root', drop: sync, sync };
  try {
    await drop();
    return { enabled: true, reason: '', drop, sync };
  } catch (err) {
    return {
      enabled: false,
      reason: `writing /proc/sys/vm/drop_caches failed: ${(err as Error).message}`,
      drop: sync,
      sync,
    };
  }
}
