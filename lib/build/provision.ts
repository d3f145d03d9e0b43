// Provisioners (lkvol extension): a program whose stdout is a tar stream of a volume's content, unpacked with
// the same confined extractor, limits and sizeLimit as an image layer.
import { createHash } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  createReadStream,
  createWriteStream,
  open,
  openSync,
  read,
  write,
  writev,
} from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobCache } from '../cache/index.js';
import type { Config, LoadedProvisioner, LoadedVolume } from '../config/index.js';
import { createHasher, type Digest } from '../digest/index.js';
import { isLkvolError, LkvolError, wrapError, type ConfigIssue } from '../errors.js';
import {
  createExtractState,
  createStreamCap,
  createTarFramingCheck,
  extractLayer,
  finishExtraction,
  volumeReport,
  type VolumeLimits,
  type VolumeReport,
} from '../layer/index.js';
import { childProcess } from '../internal/builtin.js';
import { signalProcessGroup } from '../internal/process.js';
import { volumeLimits, type ResolvedBuildOptions } from './options.js';
import { treeInputs } from './reuse.js';

/**
 * The program and arguments a provisioner runs, with `program` as found (PATH, or relative to its system file);
 * undefined when not found.
 */
export function provisionerProgram(
  p: LoadedProvisioner,
  cwd: string,
  path: string | undefined,
): { program: string; args: string[]; shown: string } | undefined {
  const [first, ...args] = p.command ?? [`lkvol-provisioner-${p.name ?? ''}`];
  if (first === undefined) return undefined;
  const shown = [first, ...args].join(' ');
  if (first.includes('/')) {
    const program = isAbsolute(first) ? first : resolve(cwd, dirname(p.file), first);
    return executable(program) ? { program, args, shown } : undefined;
  }
  for (const dir of (path ?? '').split(delimiter).filter((d) => d !== '')) {
    const program = join(dir, first);
    if (executable(program)) return { program, args, shown };
  }
  return undefined;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every provisioner of the files that cannot be found (not run): at its line. */
export function checkProvisioners(config: Config, cwd: string, path: string | undefined): ConfigIssue[] {
  return config.volumes.flatMap((v) => {
    if (v.provisioner === undefined || provisionerProgram(v.provisioner, cwd, path) !== undefined) return [];
    const p = v.provisioner;
    const what =
      p.command === undefined
        ? `lkvol-provisioner-${p.name ?? ''} is not on PATH`
        : `${JSON.stringify(p.command[0])} is not an executable file${p.command[0]?.includes('/') === true ? ` (relative to ${dirname(p.file)})` : ' on PATH'}`;
    return [
      {
        ...v.positionOf(['provisioner']),
        path: `${v.path}.provisioner`,
        message: `volume "${v.name}": provisioner ${what}`,
      },
    ];
  });
}

/** How much of a failed provisioner's stderr an error shows. */
const stderrTail = 2048;

type ProvisionedVolume = LoadedVolume & { provisioner: LoadedProvisioner };

/** What a provisioner wrote: its tar stream, kept in a temp file until the build ends, and what identifies it. */
export interface ProvisionerOutput {
  /** The program and arguments as found (shown in messages, recorded in lkvol.json). */
  command: string;
  /** sha256 of the params as JSON (what the program read on stdin). */
  paramsDigest: Digest;
  /** sha256 of the tar stream it wrote. */
  streamDigest: Digest;
  /**
   * The temp file holding the stream, open: read through this descriptor, so a build sweeping the cache's
   * old temp files (it removes any older than an hour) cannot take the stream away from a long build.
   */
  spool: number;
}

/**
 * Each provisioner of a build runs once, whoever asks first (the no-change check, or the volume's writer); `discard`
 * removes the outputs.
 */
export interface ProvisionerRuns {
  run(volume: ProvisionedVolume): Promise<ProvisionerOutput>;
  discard(): Promise<void>;
}

export function createProvisionerRuns(cache: BlobCache, o: ResolvedBuildOptions): ProvisionerRuns {
  const runs = new Map<string, Promise<ProvisionerOutput>>();
  const temps: { discard(): Promise<void> }[] = [];
  return {
    run(volume) {
      let ran = runs.get(volume.name);
      if (ran === undefined) {
        const temp = cache.tempFile();
        temps.push(temp);
        runs.set(volume.name, (ran = runProvisioner(volume, temp.path, o)));
      }
      return ran;
    },
    async discard() {
      const outputs = await Promise.allSettled([...runs.values()]);
      runs.clear();
      for (const r of outputs) if (r.status === 'fulfilled') closeQuietly(r.value.spool);
      await Promise.all(temps.splice(0).map((t) => t.discard()));
    },
  };
}

/**
 * The fs functions of the streams over a spool's descriptor: theirs, but a close that does nothing.
 * A destroyed fs stream closes its fd even with `autoClose: false`; the number could then be another
 * file's by the time the spool is closed for good.
 */
const spoolFs = {
  open,
  read,
  write,
  writev,
  close: (_fd: number, done: (err: NodeJS.ErrnoException | null) => void) => done(null),
};

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Closed already: nothing to release.
  }
}

/** The inputs hash of a provisioner's volume (see `treeInputs`): the command, its params and the stream it wrote. */
export function provisionerInputs(output: ProvisionerOutput, limits: VolumeLimits, applyOwnership: boolean): string {
  return treeInputs(
    { provisioner: { command: output.command, paramsDigest: output.paramsDigest, streamDigest: output.streamDigest } },
    limits,
    applyOwnership,
  );
}

/** Unpacks a provisioner's output into `root` with the confined extractor, the volume's limits and sizeLimit. */
export async function extractProvisioned(
  volume: ProvisionedVolume,
  output: ProvisionerOutput,
  { root, options: o }: { root: string; options: ResolvedBuildOptions },
): Promise<VolumeReport> {
  const state = createExtractState(volumeLimits(volume, o.limits));
  await extractLayer(
    createReadStream('', { fd: output.spool, start: 0, highWaterMark: 1 << 20, autoClose: false, fs: spoolFs }),
    {
      root,
      layer: `provisioner ${output.command}`,
      state,
      applyOwnership: o.applyOwnership,
      ...(o.signal === undefined ? {} : { signal: o.signal }),
    },
  );
  finishExtraction(state, { root });
  return volumeReport(state);
}

/**
 * Runs a volume's provisioner, hashing its stdout into `spool`. It runs in its system file's
 * directory with a minimal environment (LKVOL_VOLUME, LKVOL_PLATFORM, SOURCE_DATE_EPOCH when set, PATH,
 * HOME), its params as JSON on stdin, in a process group of its own that is killed (SIGKILL) at its
 * timeout, on cancellation, or when its stream passes the volume's byte budget.
 * @throws LKVOL_PROVISIONER naming the volume and the program (exit status, timeout; the end of its
 *   stderr); LKVOL_LAYER_LIMIT for a stream past the budget; LKVOL_IO when the spool cannot be written.
 */
async function runProvisioner(
  volume: ProvisionedVolume,
  spool: string,
  o: ResolvedBuildOptions,
): Promise<ProvisionerOutput> {
  const p = volume.provisioner;
  const env = o.env ?? {};
  const found = provisionerProgram(p, o.cwd, env['PATH']);
  const fail = (why: string, stderr = ''): LkvolError =>
    new LkvolError(
      'LKVOL_PROVISIONER',
      `volume "${volume.name}": provisioner ${JSON.stringify(found?.shown ?? p.command?.[0] ?? p.name)} ${why}${stderr.trim() === '' ? '' : `; its stderr ends:\n${stderr.slice(-stderrTail).trimEnd()}`}`,
      {
        hint: "run the provisioner by hand in the system file's directory to see why; it must write a tar stream to stdout and exit 0",
      },
    );
  if (found === undefined) throw fail('is not found');
  const params = JSON.stringify(p.params);
  const child = childProcess().spawn(found.program, found.args, {
    cwd: resolve(o.cwd, dirname(p.file)),
    env: {
      LKVOL_VOLUME: volume.name,
      LKVOL_PLATFORM: o.platform,
      ...(o.sourceDateEpoch === undefined ? {} : { SOURCE_DATE_EPOCH: String(o.sourceDateEpoch) }),
      ...(env['PATH'] === undefined ? {} : { PATH: env['PATH'] }),
      ...(env['HOME'] === undefined ? {} : { HOME: env['HOME'] }),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4 * stderrTail)));
  child.stdin.on('error', () => undefined);
  child.stdin.end(params);
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) signalProcessGroup(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, p.timeoutMs);
  const onAbort = (): void => killGroup();
  o.signal?.addEventListener('abort', onAbort);
  // A program that cannot be started (a missing interpreter, no permission) is reported as the program's failure.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((done) => {
    child.on('error', (error) => done({ code: null, signal: null, error }));
    child.on('close', (code, signal) => done({ code, signal }));
  });
  let fd: number | undefined;
  try {
    const hasher = createHasher('sha256');
    try {
      fd = openSync(spool, 'wx+', 0o600);
    } catch (err) {
      throw wrapError(
        err,
        'LKVOL_IO',
        `volume "${volume.name}": create ${spool} for the output of provisioner ${found.shown}`,
      );
    }
    const limits = volumeLimits(volume, o.limits);
    const layer = `provisioner ${found.shown}`;
    // Taken at once by the pipeline: a child's stdout socket may be torn down when the child exits.
    // Output that is not a tar, or past the volume's byte budget, stops the program at once: it would
    // block on a full pipe, or fill the disk, otherwise.
    const cap = createStreamCap(limits, layer);
    const framing = createTarFramingCheck(
      layer,
      limits,
      'the provisioner must write a tar stream (plain, gzip or zstd) on stdout; run it by hand to see what it writes',
    );
    // Refused output kills the program before the pipe closes under it: it dies of our SIGKILL, not of
    // a write error it would report as its own failure. (These listeners run before pipeline's.)
    let refused = false;
    for (const check of [cap, framing]) {
      check.once('error', () => {
        refused = true;
        killGroup();
      });
    }
    const spooled = pipeline(
      child.stdout,
      cap,
      framing,
      hasher,
      createWriteStream('', { fd, autoClose: false, fs: spoolFs }),
    ).catch((err: unknown) => {
      // Output that could not be kept (a full disk) stops the program too, and is what is reported.
      refused = true;
      killGroup();
      throw err;
    });
    const [written] = await Promise.allSettled([spooled, exited]);
    const exit = await exited;
    if (o.signal?.aborted === true)
      throw new LkvolError('LKVOL_CANCELLED', `volume "${volume.name}": provisioner cancelled`);
    if (exit.error !== undefined) throw fail(`could not be started: ${exit.error.message}`, stderr);
    if (timedOut) throw fail(`did not finish within ${p.timeoutMs / 1000} s and was killed`, stderr);
    // A program that failed by itself explains its output better than the tar reader does; one we
    // killed for its output is reported for that output.
    if (exit.signal === null && exit.code !== 0) throw fail(`exited with status ${String(exit.code)}`, stderr);
    if (exit.signal !== null && !refused) throw fail(`was killed by ${exit.signal}`, stderr);
    if (written.status === 'rejected')
      throw isLkvolError(written.reason)
        ? written.reason
        : wrapError(
            written.reason,
            'LKVOL_IO',
            `volume "${volume.name}": keep the output of provisioner ${found.shown} in ${spool}`,
          );
    const output = {
      command: found.shown,
      paramsDigest: `sha256:${createHash('sha256').update(params).digest('hex')}` as Digest,
      streamDigest: hasher.digest(),
      spool: fd,
    };
    fd = undefined;
    return output;
  } catch (err) {
    killGroup();
    throw err;
  } finally {
    if (fd !== undefined) closeQuietly(fd);
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}
