// The process's umask, which decides whether a mode given to open(2) or mkdir(2) needs a chmod after.
import { readFileSync } from 'node:fs';

/**
 * The umask, read without changing it (process.umask() would write it twice, racing other threads);
 * all bits when unknown, so every mode is then set explicitly. Read per layer: a library user may change it.
 */
export function readUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m === null ? 0o7777 : parseInt(m[1]!, 8);
  } catch {
    return 0o7777;
  }
}
