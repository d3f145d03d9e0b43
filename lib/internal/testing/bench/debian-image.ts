// The Debian image: `debootstrap --variant=minbase bookworm`, tarred the way debuerreotype (which
// builds Docker Hub's debian images) tars it, as one gzip layer.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { writeLayerFile, type LayerFile } from './layer-file.js';
import { log, mib } from './log.js';

/** Cache key: bump the version whenever the recipe changes. */
export function debianImageKey(arch: string): string {
  return `debian-bookworm-minbase-${arch}-v1`;
}

/** Entries dropped before tarring, as debuerreotype drops them (scripts/.tar-exclude, debuerreotype-fixup and -tar). */
const excludes = [
  // apt's downloaded .debs and package lists: `apt-get update` restores the lists; real images have neither.
  './var/cache/apt/**',
  './var/lib/apt/lists/**',
  // Filled at run time by the container runtime.
  './dev/**',
  './proc/**',
  './sys/**',
  // Logs and caches that record the build host and time.
  './var/log/dpkg.log',
  './var/log/bootstrap.log',
  './var/log/alternatives.log',
  './var/log/apt/history.log',
  './var/log/apt/term.log',
  './var/cache/ldconfig/aux-cache',
  './run/mount/utab',
  './etc/apt/apt.conf.d/01autoremove-kernels',
];

/** Times newer than this are clamped to it, as debuerreotype clamps to its snapshot's epoch (2025-05-20). */
const epoch = 1_747_699_200;

/** Runs debootstrap into `dir/rootfs`, writes `dir/layer-0.tar.gz` and removes the rootfs. */
export async function generateDebianImage(dir: string, o: { mirror: string | undefined }): Promise<LayerFile[]> {
  const mirror = o.mirror ?? (await defaultMirror());
  const rootfs = join(dir, 'rootfs');
  // debootstrap and reading the tree (root-only files such as etc/shadow) need root.
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  try {
    log(`  debootstrap --variant=minbase bookworm from ${mirror} (about 30 s)`);
    await run([...sudo, 'debootstrap', '--variant=minbase', 'bookworm', rootfs, mirror]);
    const args = [
      '--create',
      '--directory',
      rootfs,
      '--numeric-owner',
      '--sort=name',
      `--mtime=@${epoch}`,
      '--clamp-mtime',
      ...excludes.map((e) => `--exclude=${e}`),
      '.',
    ];
    const [command, ...rest] = [...sudo, 'tar', ...args] as [string, ...string[]];
    const tar = execa(command, rest, { buffer: { stdout: false, stderr: true }, stdin: 'ignore' });
    const file = 'layer-0.tar.gz';
    const [written] = await Promise.all([writeLayerFile(tar.stdout, join(dir, file)), tar]);
    log(`  debian layer: ${mib(written.tarSize)} tar, ${mib(written.size)} gzip`);
    return [{ file, ...written }];
  } finally {
    await run([...sudo, 'rm', '-rf', rootfs]);
  }
}

async function run(argv: string[]): Promise<void> {
  const [command, ...args] = argv as [string, ...string[]];
  const result = await execa(command, args, { reject: false, all: true, stdin: 'ignore' });
  if (result.exitCode !== 0)
    throw new Error(
      `${argv.join(' ')} failed (exit ${result.exitCode}):\n${result.all.split('\n').slice(-20).join('\n')}`,
    );
}

/** The bookworm mirror this machine's apt uses (deb822 sources), else deb.debian.org. */
async function defaultMirror(): Promise<string> {
  const text = await readFile('/etc/apt/sources.list.d/debian.sources', 'utf8').catch(() => '');
  for (const stanza of text.split(/\n\s*\n/)) {
    const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
    if (uri !== undefined && /^Suites:.*\bbookworm\b(?!-)/m.test(stanza) && uri.endsWith('/debian')) return uri;
  }
  return 'http://deb.debian.org/debian';
}
