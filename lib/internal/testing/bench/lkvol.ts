// Runs the CLI the way a user does: the `lkvol` command (cmd/lkvol.sh) `build -q -o OUT --cache CACHE SYSTEM`.
import { dirname, join } from 'node:path';
import { repoRoot } from '../testdata.js';
import { runTimed, type TimedRun } from './timed.js';

const cli = join(repoRoot(), 'cmd', 'lkvol.sh');

/** One lkvol build, timed; `what` names it in errors. The command finds `node` on PATH: this one. */
export function runLkvol(
  what: string,
  o: { system: string; out: string; cache: string; cwd: string },
): Promise<TimedRun> {
  return runTimed(cli, ['build', '-q', '-o', o.out, '--cache', o.cache, o.system], {
    what,
    cwd: o.cwd,
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` },
  });
}

/** The `lower/` directory of volume `name` in an lkvol output. */
export function lowerOf(out: string, name: string): string {
  return join(out, 'containers', 'volumes', name, 'lower');
}
