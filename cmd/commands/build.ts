// `lkvol build`: flags → BuildOptions → build() → result on stdout, progress on stderr.
import { LkvolError, build } from '../../lib/index.js';
import { isCI, parseFlags, positiveInt, requireFiles, sizeFlag } from '../args.js';
import { homeDir } from '../env.js';
import { registryFlags, registryOptions } from '../registry-flags.js';
import type { Command } from '../io.js';
import { chooseProgressMode, createProgress } from '../render/progress.js';

const usage = `usage: lkvol build [options] FILE...

Pull every volume's image, unpack it into OUT/containers/volumes/<name>/lower and write an OCI
runtime spec per container (with --rootfs, also unpack each container's image into its bundle).
Files merge in order. OUT is replaced atomically, and only when it does not exist, is an empty
directory or is an earlier lkvol output (exit 2 otherwise, before anything is pulled or written).
A symlink OUT is followed. With -o OUT.tar, --format tar or -o - (stdout) the same tree is written
as one reproducible tar, replacing only a missing file or an earlier lkvol tar.

options:
  -o, --output OUT            output directory (default: out); not /, $HOME, the current directory, a
                              directory holding an input or the cache, nor a file; OUT.tar or - (stdout): a tar
      --format dir|tar        the output format (default: tar for -o *.tar and -o -, else dir)
      --platform OS/ARCH[/V]  platform to pick from image indexes (default: linux/<host arch>)
      --cache DIR             blob cache (default: $LKVOL_CACHE, else $XDG_CACHE_HOME/lkvol, else ~/.cache/lkvol)
  -j, --jobs N                parallel blob downloads (default: 4)
      --pull                  resolve every tag at its registry with a GET (default: revalidate cached tags with HEAD)
      --offline               contact no registry: only the cache and local images; fail naming the tag or blob that is missing
      --mirror REGISTRY=URL   fetch blobs and digests of REGISTRY from URL first, falling back to REGISTRY
                              (repeatable, tried in order; e.g. docker.io=https://mirror.example.com)
      --insecure-registry H   do not verify TLS for registry host H and allow plain HTTP (repeatable; loopback may use HTTP)
      --ca-cert FILE          trust the CA certificates in FILE (PEM) for every registry (repeatable)
      --certs-dir DIR         read DIR/<host:port>/*.crt (CAs) and <name>.cert + <name>.key (client certificate) (repeatable;
                              default: $XDG_CONFIG_HOME/containers/certs.d, /etc/containers/certs.d, /etc/docker/certs.d)
      --max-bytes N           cap on file bytes unpacked per volume, bytes or 512Mi, 2G, … (default: 64Gi; sizeLimit can lower it)
      --max-entries N         cap on archive entries unpacked per volume (default: 1000000)
      --max-depth N           cap on path components of an entry name (default: 1024)
      --policy FILE           host paths containers may bind (README "Host-path bind policy"); a bind outside it
                              fails the build before anything is pulled (exit 2)
      --locked                require lkvol.lock beside the first FILE to pin exactly the files' references
                              (without it, a lock present is used and a reference it lacks is resolved)
      --rootfs                also unpack each container's image into its bundle (lower/ + tmp/ + rootfs/, or
                              rootfs/ when read-only), each image once, as LinuxKit lays out containers/
      --no-reuse              extract every volume, even one unchanged and intact in OUT (and rewrite OUT)
      --json                  print the build record as JSON on stdout; NDJSON progress on stderr
      --progress MODE         auto | plain | none (default: auto)
  -q, --quiet                 no progress
      --debug                 show error causes and stacks
  -h, --help                  show this help

environment: HTTPS_PROXY, HTTP_PROXY, NO_PROXY (proxies), LKVOL_CACHE, XDG_CACHE_HOME, DOCKER_CONFIG,
REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, XDG_CONFIG_HOME (credentials, certs), CI (plain progress unless false or 0),
SOURCE_DATE_EPOCH (the date of everything lkvol synthesises)`;

export const buildCommand: Command = {
  name: 'build',
  summary: 'build volumes and runtime specs from system files',
  usage,
  async run(args, io) {
    const { values, positionals } = parseFlags('build', args, {
      ...registryFlags,
      output: { type: 'string', short: 'o' },
      format: { type: 'string' },
      jobs: { type: 'string', short: 'j' },
      'max-bytes': { type: 'string' },
      'max-entries': { type: 'string' },
      'max-depth': { type: 'string' },
      json: { type: 'boolean' },
      'no-reuse': { type: 'boolean' },
      rootfs: { type: 'boolean' },
      locked: { type: 'boolean' },
      policy: { type: 'string' },
      progress: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
    });
    requireFiles('build', positionals);
    const format = formatFlag(values.format);
    const out = values.output ?? 'out';
    if (out === '-' && values.json === true)
      throw new LkvolError('LKVOL_USAGE', 'build: -o - writes the tar to stdout, where --json would also go', {
        hint: 'leave out --json, or write the tar to a file',
      });
    if (out === '-' && io.stdoutIsTTY === true)
      throw new LkvolError('LKVOL_USAGE', 'build: -o -: refusing to write a tar to a terminal', {
        hint: 'redirect stdout (-o - > image.tar, or | tar -t), or write the tar to a file',
      });
    if (out === '-' && io.stdoutStream === undefined)
      throw new LkvolError('LKVOL_USAGE', 'build: -o -: no stdout stream to write the tar to', {
        hint: 'write the tar to a file',
      });
    const limits = {
      maxBytes: sizeFlag('build', 'max-bytes', values['max-bytes']),
      maxEntries: positiveInt('build', 'max-entries', values['max-entries']),
      maxDepth: positiveInt('build', 'max-depth', values['max-depth']),
    };
    const mode = chooseProgressMode({
      progress: progressFlag(values.progress),
      json: values.json === true,
      quiet: values.quiet === true,
      isTTY: io.isTTY,
      ci: isCI(io.env),
    });
    const color = io.isTTY && (io.env['NO_COLOR'] ?? '') === '';
    const progress = createProgress(mode, io.stderr, {
      rootfs: values.rootfs === true,
      color,
      ...(io.columns === undefined ? {} : { columns: io.columns }),
    });
    try {
      const result = await build({
        ...registryOptions(values, io),
        files: positionals,
        out,
        ...(format === undefined ? {} : { format }),
        stdout: io.stdoutStream,
        home: homeDir(io.env),
        jobs: positiveInt('build', 'jobs', values.jobs) ?? 4,
        applyOwnership: io.uid === 0,
        limits,
        sourceDateEpoch: sourceDateEpoch(io.env['SOURCE_DATE_EPOCH']),
        reuse: values['no-reuse'] !== true,
        rootfs: values.rootfs === true,
        locked: values.locked === true,
        policy: values.policy,
        onEvent: progress,
      });
      // With -o - stdout carries the tar alone.
      if (out !== '-')
        io.stdout.write(
          values.json === true
            ? JSON.stringify({ ok: true, out: result.out, record: result.record }) + '\n'
            : `${result.out}\n`,
        );
    } finally {
      progress.finish();
    }
    return 0;
  },
};

function sourceDateEpoch(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v))
    throw new LkvolError(
      'LKVOL_USAGE',
      `build: SOURCE_DATE_EPOCH must be whole seconds since 1970, got ${JSON.stringify(v)}`,
      { hint: 'unset it or set it to e.g. $(git log -1 --format=%ct)' },
    );
  return Number(v);
}

function formatFlag(v: string | undefined): 'dir' | 'tar' | undefined {
  if (v === undefined || v === 'dir' || v === 'tar') return v;
  throw new LkvolError('LKVOL_USAGE', `build: --format must be dir or tar, got ${JSON.stringify(v)}`, {
    hint: 'run "lkvol build --help"',
  });
}

function progressFlag(v: string | undefined): string | undefined {
  if (v === undefined || v === 'auto' || v === 'plain' || v === 'none') return v;
  throw new LkvolError('LKVOL_USAGE', `build: --progress must be auto, plain or none, got ${JSON.stringify(v)}`, {
    hint: 'run "lkvol build --help"',
  });
}
