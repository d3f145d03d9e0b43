// Runs one command under /usr/bin/time: wall time measured here, peak RSS (%M, KB) reported by time.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** One timed command. */
export interface TimedRun {
  seconds: number;
  /** Peak resident set size of the command, in KB (GNU time's %M). */
  peakRssKb: number;
}

let counter = 0;

/** Runs `command args` in `cwd`; throws naming `what`, with the end of its output, when it fails. */
export async function runTimed(
  command: string,
  args: readonly string[],
  o: { what: string; cwd: string; env?: Record<string, string | undefined> },
): Promise<TimedRun> {
  const { what } = o;
  const rssFile = join(o.cwd, `.time-${process.pid}-${counter++}`);
  const started = process.hrtime.bigint();
  const result = await execa('/usr/bin/time', ['-f', '%M', '-o', rssFile, command, ...args], {
    cwd: o.cwd,
    reject: false,
    stdin: 'ignore',
    all: true,
    ...(o.env === undefined ? {} : { env: o.env }),
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const timeOutput = await readFile(rssFile, 'utf8').catch(() => '');
  await rm(rssFile, { force: true });
  if (result.exitCode !== 0) {
    const tail = result.all.split('\n').slice(-20).join('\n');
    throw new Error(`${what} failed (exit ${result.exitCode ?? result.signal}): ${command} ${args.join(' ')}\n${tail}`);
  }
  // time writes "Command exited with non-zero status" lines before the format when it fails; the last line is %M.
  const peakRssKb = Number(timeOutput.trim().split('\n').at(-1));
  if (!Number.isFinite(peakRssKb))
    throw new Error(`${what}: /usr/bin/time wrote no peak RSS: ${JSON.stringify(timeOutput)}`);
  return { seconds, peakRssKb };
}
