// Runs the built CLI the way a user does: `node dist/cmd/lkvol.js build -q -o OUT --cache CACHE SYSTEM`.
import { join } from 'node:path';
import { repoRoot } from '../testdata.js';
import { runTimed, type TimedRun } from './timed.js';

const cli = join(repoRoot(), 'dist', 'cmd', 'lkvol.js');

/** One lkvol build, timed; `what` names it in errors. */
export function runLkvol(what: string, o: { system: string; out: string; cache: string; cwd: string }): Promise<TimedRun> {
  return runTimed(what, process.execPath, [cli, 'build', '-q', '-o', o.out, '--cache', o.cache, o.system], { cwd: o.cwd });
}

/** The `lower/` directory of volume `name` in an lkvol output. */
export function lowerOf(out: string, name: string): string {
  return join(out, 'containers', 'volumes', name, 'lower');
}
