// Test helper, run as root inside `unshare -m` (a private mount namespace): boots a built tree the way
// LinuxKit's init does (pkg/init/cmd/service: volumeinit.go, prepare.go, runc.go) and runs its containers
// with runc, printing what happened as one JSON object. Usage: boot-init.js OUT STATE PORT
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { isAbsolute, join } from 'node:path';

interface RuntimeMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

const [out, state, port] = process.argv.slice(2) as [string, string, string];
const report: Record<string, unknown> = {};

/** `mount ARGS`, failing loudly. */
function mount(...args: string[]): void {
  execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** volumeinit.go: a tmpfs on tmp/ with upper/ and work/, an overlay of lower/ on merged/ (read-only without tmp/). */
function mountVolumes(): void {
  const root = '/containers/volumes';
  if (!existsSync(root)) return;
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    const readWrite = existsSync(join(dir, 'tmp'));
    const tmp = join(dir, 'tmp');
    if (!readWrite) mkdirSync(tmp);
    mount('-t', 'tmpfs', 'tmpfs', tmp);
    mkdirSync(join(tmp, 'upper'));
    mkdirSync(join(tmp, 'work'));
    mount(
      '-t',
      'overlay',
      '-o',
      `lowerdir=${join(dir, 'lower')},upperdir=${join(tmp, 'upper')},workdir=${join(tmp, 'work')}${readWrite ? '' : ',ro'}`,
      'overlay',
      join(dir, 'merged'),
    );
  }
}

/**
 * prepare.go prepareFilesystem: each runtime.json mount in order (destinations relative to the bundle's rootfs), then
 * mkdir.
 */
function prepare(bundle: string): void {
  const runtime = JSON.parse(readFileSync(join(bundle, 'runtime.json'), 'utf8')) as {
    mounts: RuntimeMount[];
    mkdir: string[];
  };
  const abs = (p: string) => (isAbsolute(p) ? p : join(bundle, 'rootfs', p));
  for (const m of runtime.mounts) {
    const dest = abs(m.destination);
    mkdirSync(dest, { recursive: true });
    const options = m.options ?? [];
    for (const o of options) {
      const [k, v] = o.split('=', 2);
      if ((k === 'upperdir' || k === 'workdir') && v !== undefined) mkdirSync(v, { recursive: true });
    }
    if (options.includes('remount') && options.includes('private')) mount('--make-private', dest);
    else if (options.includes('bind') || options.includes('rbind'))
      mount(options.includes('rbind') ? '--rbind' : '--bind', m.source ?? '', dest);
    else
      mount('-t', m.type ?? 'none', ...(options.length > 0 ? ['-o', options.join(',')] : []), m.source ?? 'none', dest);
  }
  for (const d of runtime.mkdir) mkdirSync(abs(d), { recursive: true });
}

function runc(
  args: string[],
  opts: { detached?: boolean } = {},
): { status: number | null; stdout: string; stderr: string } {
  if (opts.detached === true) {
    // Detached: the container must not hold our pipes open.
    const log = openSync(join(state, `${args.at(-1) ?? 'c'}.log`), 'a');
    const r = spawnSync('runc', ['--root', join(state, 'runc'), ...args], { stdio: ['ignore', log, log] });
    return { status: r.status, stdout: '', stderr: readFileSync(join(state, `${args.at(-1) ?? 'c'}.log`), 'utf8') };
  }
  const r = spawnSync('runc', ['--root', join(state, 'runc'), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fetch(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port: Number(port), path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(`${res.statusCode ?? 0} ${body}`));
    }).on('error', reject);
  });
}

async function waitFor(path: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await fetch(path);
    } catch (err) {
      if (i >= 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function main(): Promise<void> {
  mount('--make-rprivate', '/');
  mount('--bind', join(out, 'containers'), '/containers');
  mountVolumes();
  const section = (name: string) =>
    existsSync(join('/containers', name)) ? readdirSync(join('/containers', name)).sort() : [];
  report['onboot'] = section('onboot').map((b) => {
    const bundle = join('/containers/onboot', b);
    prepare(bundle);
    return { bundle: b, ...runc(['run', '--bundle', bundle, `onboot-${b}`]) };
  });
  const services = section('services');
  for (const s of services) prepare(join('/containers/services', s));
  const start = (s: string) => runc(['run', '-d', '--bundle', join('/containers/services', s), s], { detached: true });
  report['start'] = services.map(start);
  report['served'] = [await waitFor('/state/greeting'), await waitFor('/www/index.html')];
  report['roWrite'] = runc(['exec', 'web', '/bin/sh', '-c', 'echo x > /www/new']);
  report['rwWrite'] = runc(['exec', 'web', '/bin/sh', '-c', 'echo more >> /state/greeting && cat /state/greeting']);
  report['delete'] = runc(['delete', '-f', 'web']);
  report['restart'] = start('web');
  report['servedAgain'] = await waitFor('/state/greeting');
  report['deleteAgain'] = runc(['delete', '-f', 'web']);
  report['onshutdown'] = section('onshutdown').map((b) => {
    const bundle = join('/containers/onshutdown', b);
    prepare(bundle);
    return { bundle: b, ...runc(['run', '--bundle', bundle, `onshutdown-${b}`]) };
  });
}

main().then(
  () => process.stdout.write(`${JSON.stringify(report)}\n`),
  (err: unknown) => {
    process.stdout.write(
      `${JSON.stringify({ ...report, error: err instanceof Error ? `${err.message}\n${String((err as { stderr?: unknown }).stderr ?? '')}` : String(err) })}\n`,
    );
    process.exitCode = 1;
  },
);
