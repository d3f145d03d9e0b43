// Who wrote a cache temp file, and whether that writer is gone, so a killed build's temps can be removed at once.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { isProcessAlive, processId } from '../internal/process.js';

/** Temp files of puts running in this process (their pid is ours, yet they are alive). */
const live = new Set<string>();

/**
 * Names the writer in a temp file name: `<host>-<pid>`, host being 8 hex digits of a hash of the
 * host name. Containers sharing a cache directory often run builds under the same pid; their host
 * names (container ids) differ, so one never takes the other's live temp file for a leftover.
 */
export function writerTag(): string {
  return `${hostTag()}-${processId()}`;
}

function hostTag(): string {
  return createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
}

/** Marks a temp path as being written by this process until `release` is called. */
export function holdTemp(path: string): () => void {
  live.add(path);
  return () => live.delete(path);
}

/**
 * True when the temp file `name` (a basename in the tmp directory, `<prefix>.<host>-<pid>.<rand>`)
 * was written by a process of this host that no longer runs, or by this pid but no put of this
 * process (the pid of a killed build in an earlier container run). Names of other hosts, or in
 * another form (layouts before the writer tag), are left to the age rule.
 */
export function isOrphanTemp(path: string, name: string): boolean {
  const m = /^[0-9a-f]+\.([0-9a-f]{8})-(\d+)\.[0-9a-f]+$/.exec(name);
  if (m === null || m[1] !== hostTag()) return false;
  const pid = Number(m[2]);
  if (pid === processId()) return !live.has(path);
  return !isProcessAlive(pid);
}
