// Bench options from flags and the environment, with every default in one place.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** What `make bench` can be told. */
export interface BenchOptions {
  /** Rounds; each runs every scenario once (median of this many). */
  runs: number;
  /** Generated images (kept between runs), the work directory, and the results by default. */
  cacheDir: string;
  /** Where the JSON results are written. */
  resultsPath: string;
  /** Debian mirror for debootstrap; default: this machine's apt source, else deb.debian.org. */
  mirror: string | undefined;
}

export const usage = `usage: node dist/lib/internal/testing/bench/run.js [--runs N] [--cache DIR] [--results FILE] [--mirror URL]
  --runs N        rounds, median of N (default 3; env BENCH_RUNS)
  --cache DIR     generated images and work files (env BENCH_CACHE; default $XDG_CACHE_HOME/lkvol-bench or ~/.cache/lkvol-bench)
  --results FILE  JSON results (env BENCH_RESULTS; default DIR/bench-results.json)
  --mirror URL    Debian mirror for debootstrap (env BENCH_MIRROR)`;

/** Parses `argv` (flags win over `env`); throws with the usage on a bad value. */
export function readOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      cache: { type: 'string' },
      results: { type: 'string' },
      mirror: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return 'help';
  const runsText = values.runs ?? env['BENCH_RUNS'] ?? '3';
  const runs = Number(runsText);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(
      `--runs / BENCH_RUNS: expected a whole number of rounds ≥ 1, got ${JSON.stringify(runsText)}\n${usage}`,
    );
  const cacheDir = resolve(
    values.cache ?? env['BENCH_CACHE'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'lkvol-bench'),
  );
  const resultsPath = resolve(values.results ?? env['BENCH_RESULTS'] ?? join(cacheDir, 'bench-results.json'));
  return { runs, cacheDir, resultsPath, mirror: values.mirror ?? env['BENCH_MIRROR'] };
}
