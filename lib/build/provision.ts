// Provisioners (lkvol extension): a program whose stdout is a tar stream of a volume's content, unpacked with
// the same confined extractor, limits and sizeLimit as an image layer.
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Config, LoadedProvisioner, LoadedVolume } from '../config/index.js';
import { LkvolError, type ConfigIssue } from '../errors.js';
import { createExtractState, extractLayer, finishExtraction, volumeReport, type VolumeReport } from '../layer/index.js';
import type { ResolvedBuildOptions } from './options.js';
import { volumeLimits } from './volumes.js';

/** The program and arguments a provisioner runs, with `program` as found (PATH, or relative to its system file); undefined when not found. */
export function provisionerProgram(p: LoadedProvisioner, cwd: string, path: string | undefined): { program: string; args: string[]; shown: string } | undefined {
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
    const what = p.command === undefined ? `lkvol-provisioner-${p.name ?? ''} is not on PATH` : `${JSON.stringify(p.command[0])} is not an executable file${p.command[0]?.includes('/') === true ? ` (relative to ${dirname(p.file)})` : ' on PATH'}`;
    return [{ ...v.positionOf(['provisioner']), path: `${v.path}.provisioner`, message: `volume "${v.name}": provisioner ${what}` }];
  });
}

/** How much of a failed provisioner's stderr an error shows. */
const stderrTail = 2048;

/**
 * Runs a volume's provisioner and unpacks its stdout into `root`. It runs in its system file's
 * directory with a minimal environment (LKVOL_VOLUME, LKVOL_PLATFORM, SOURCE_DATE_EPOCH when set, PATH,
 * HOME), its params as JSON on stdin, in a process group of its own that is killed (SIGKILL) at its
 * timeout or on cancellation.
 * @throws LKVOL_PROVISIONER naming the volume and the program (exit status, timeout; the end of its
 *   stderr); what the extractor throws for its tar (unsafe paths, limits, corrupt tar).
 */
export async function runProvisioner(volume: LoadedVolume & { provisioner: LoadedProvisioner }, root: string, o: ResolvedBuildOptions, platform: string): Promise<{ report: VolumeReport; command: string }> {
  const p = volume.provisioner;
  const env = o.credentialHelperEnv ?? process.env;
  const found = provisionerProgram(p, o.cwd, env['PATH']);
  const fail = (why: string, stderr = ''): LkvolError =>
    new LkvolError('LKVOL_PROVISIONER', `volume "${volume.name}": provisioner ${JSON.stringify(found?.shown ?? p.command?.[0] ?? p.name)} ${why}${stderr.trim() === '' ? '' : `; its stderr ends:\n${stderr.slice(-stderrTail).trimEnd()}`}`, {
      hint: 'run the provisioner by hand in the system file\'s directory to see why; it must write a tar stream to stdout and exit 0',
    });
  if (found === undefined) throw fail('is not found');
  const child = spawn(found.program, found.args, {
    cwd: resolve(o.cwd, dirname(p.file)),
    env: {
      LKVOL_VOLUME: volume.name,
      LKVOL_PLATFORM: platform,
      ...(o.sourceDateEpoch === undefined ? {} : { SOURCE_DATE_EPOCH: String(o.sourceDateEpoch) }),
      ...(env['PATH'] === undefined ? {} : { PATH: env['PATH'] }),
      ...(env['HOME'] === undefined ? {} : { HOME: env['HOME'] }),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  // Taken at once into a stream of our own: a child's stdout socket may be torn down when the child
  // exits, before the extractor (which first loads the xattr binding) starts reading.
  const stdout = child.stdout.pipe(new PassThrough());
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4 * stderrTail)));
  child.stdin.on('error', () => undefined);
  child.stdin.end(JSON.stringify(p.params));
  let killed = false;
  const killGroup = (): void => {
    killed = true;
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
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
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done, failed) => {
    child.on('error', failed);
    child.on('close', (code, signal) => done({ code, signal }));
  });
  try {
    const state = createExtractState(volumeLimits(volume, o.limits));
    // A tar the extractor refuses stops the program too: it would block on a full pipe otherwise.
    const extracted = extractLayer(stdout, { root, layer: `provisioner ${found.shown}`, state, applyOwnership: o.applyOwnership, ...(o.signal === undefined ? {} : { signal: o.signal }) }).catch((err: unknown) => {
      const ours = killed;
      killGroup();
      killed = ours;
      throw err;
    });
    const [result] = await Promise.allSettled([extracted, exited]);
    const exit = await exited;
    if (o.signal?.aborted === true) throw new LkvolError('LKVOL_CANCELLED', `volume "${volume.name}": provisioner cancelled`);
    if (timedOut) throw fail(`did not finish within ${p.timeoutMs / 1000} s and was killed`, stderr);
    // The program's own failure explains a broken stream better than the tar reader does.
    if (exit.code !== 0 && !killed && exit.signal !== 'SIGKILL') throw fail(exit.signal === null ? `exited with status ${String(exit.code)}` : `was killed by ${exit.signal}`, stderr);
    if (result.status === 'rejected') throw result.reason;
    if (exit.code !== 0) throw fail(`exited with status ${String(exit.code ?? exit.signal)}`, stderr);
    finishExtraction(state, { root });
    return { report: volumeReport(state), command: found.shown };
  } catch (err) {
    killGroup();
    throw err;
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}
