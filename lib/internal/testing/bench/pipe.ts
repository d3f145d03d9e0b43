// The floor the issue sets the cold target against: `curl | gzip -d | tar -x` of each layer blob from the same
// registry, in order. It checks nothing (no digest, no diff_id, no whiteout, no confinement): a measure of what
// this machine's network, inflate and file creation allow, not something lkvol could be.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runTimed, type TimedRun } from './timed.js';

/** The shell pipe, one blob URL per argument; pipefail so a failed download fails the run. */
const script = 'set -eo pipefail; for url in "$@"; do curl -sSf "$url" | gzip -dc | tar -x -C rootfs; done';

/** Downloads and unpacks `blobs` (URLs, in layer order) into `dir/rootfs`, timed. */
export async function runPipe(o: { blobs: readonly string[]; dir: string }): Promise<TimedRun> {
  await mkdir(join(o.dir, 'rootfs'));
  return runTimed('bash', ['-c', script, 'pipe', ...o.blobs], { what: 'curl | gzip -d | tar -x', cwd: o.dir });
}
