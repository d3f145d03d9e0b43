// Whether a process id names a running process, for telling leftovers of dead builds from live ones.

/** True when `pid` is a running process (EPERM: it runs, as another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
