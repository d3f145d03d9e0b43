// lib's only door to the process it runs in: its id, working directory and ids, and signals to other processes.
// Never the environment, argv or exit: cmd/ reads those and passes options down (STYLE.md section 2).

/** This process's id, which names the temporary files it writes so that a sweep can tell live writers from dead. */
export function processId(): number {
  return process.pid;
}

/** The process's working directory: what a `cwd` option defaults to. */
export function workingDirectory(): string {
  return process.cwd();
}

/** The effective uid and gid of this process (-1 each where the platform has none). */
export function effectiveIds(): { uid: number; gid: number } {
  return { uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1 };
}

/** Sends `signal` to every process of the group `pgid`. @throws as `process.kill` does (ESRCH: the group is gone). */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): void {
  process.kill(-pgid, signal);
}

/** True when `pid` is a running process (EPERM: it runs, as another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
