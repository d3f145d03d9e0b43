// Build options and their defaults, filled in one place.
import { homedir } from 'node:os';
import type { Writable } from 'node:stream';
import { resolve } from 'node:path';
import { LkvolError } from '../errors.js';
import type { EventSink } from '../events.js';
import { discardEvents } from '../events.js';
import { version } from '../version.js';
import type { LoadedVolume } from '../config/index.js';
import type { VolumeLimits } from '../layer/index.js';
import { parseMirror, type ProxyOptions, type RetryOptions } from '../registry/index.js';

export interface BuildOptions {
  /** System files, merged in order; relative to `cwd`, and named in messages as given. */
  files: string[];
  /**
   * Output, relative to `cwd`: a directory (replaced atomically, and only when that destroys nothing,
   * see `checkOutput`), a tar file (`x.tar`, or any name with `format: 'tar'`), or `-`: a tar stream on `stdout`.
   */
  out: string;
  /** `dir` or `tar`; default `tar` when `out` is `-` or ends in `.tar`, else `dir`. */
  format?: 'dir' | 'tar';
  /** Where `out: '-'` writes the tar stream (the CLI passes process.stdout). */
  stdout?: Writable | undefined;
  /** Blob cache directory, relative to `cwd`. */
  cacheDir: string;
  /** The directory every relative path of these options is taken from. Default: the process's working directory. */
  cwd?: string;
  /** The user's home directory, which OUT may never be (the CLI passes `$HOME`). Default: `os.homedir()`. */
  home?: string;
  /** Target platform `os/arch[/variant]`; the CLI defaults it to `linux/<host arch>`. */
  platform: string;
  /** Parallel blob downloads. Default 4. */
  jobs?: number;
  /** Hosts reached over plain HTTP when they do not speak TLS (loopback always is). */
  insecureRegistries?: string[];
  /** Path of a Docker config.json to read credentials from, if any (the first credentials source). */
  dockerConfigPath?: string | undefined;
  /** Further credentials files, tried in order after `dockerConfigPath` (`$REGISTRY_AUTH_FILE`, containers `auth.json`). */
  authFiles?: string[];
  /** Environment of `docker-credential-*` helpers (PATH finds them); the CLI passes its own. Default: inherited. */
  credentialHelperEnv?: Record<string, string | undefined> | undefined;
  /** Files of CA certificates trusted for every registry (`--ca-cert`). */
  caCertFiles?: string[];
  /** Directories of `<host:port>/ca.crt` and client certificates (`--certs-dir`). */
  certsDirs?: string[];
  /** Running as root: apply owners, setuid/setgid bits, `user.*`/`security.capability` xattrs and create device nodes (the CLI passes true for uid 0). Default false: ownership is recorded in lkvol.json instead. */
  applyOwnership?: boolean;
  /** Caps on what one volume may unpack. */
  limits?: { maxBytes?: number | undefined; maxEntries?: number | undefined; maxDepth?: number | undefined };
  /** When set, synthesised entries (directories, specs, lkvol.json, OCI layouts) are dated at these seconds since the epoch. */
  sourceDateEpoch?: number | undefined;
  /** A host-path bind policy file (`--policy`), relative to `cwd`: every bind of a host path must keep to it. */
  policy?: string | undefined;
  /** Require lkvol.lock beside the first file to exist and to pin exactly the files' references (`--locked`; default false). */
  locked?: boolean;
  /** Also unpack each container's image into its bundle, as LinuxKit lays it out (`--rootfs`; default false). */
  rootfs?: boolean;
  /** Reuse unchanged, intact volumes of the previous OUT, or leave OUT alone when nothing changed (default true; `--no-reuse`). */
  reuse?: boolean;
  /** Build from the cache alone: no registry is contacted; a missing tag or blob is an error naming it. Not with `pull`. */
  offline?: boolean;
  /** Resolve every tag with a GET at its registry, even when the cached record is current (default: revalidate with HEAD). */
  pull?: boolean;
  /** Mirrors as `REGISTRY=URL` (`docker.io=https://mirror.example.com`), tried in order for blobs and digests. */
  mirrors?: string[];
  /** HTTP(S) proxies (the CLI passes `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`); default none. */
  proxy?: ProxyOptions | undefined;
  /** Registry retry policy; tests pass small delays. */
  retry?: Partial<RetryOptions> | undefined;
  /** `User-Agent` sent to registries. */
  userAgent?: string;
  /** Progress and warnings. */
  onEvent?: EventSink;
  signal?: AbortSignal;
}

type OptionalKeys =
  'dockerConfigPath' | 'credentialHelperEnv' | 'signal' | 'sourceDateEpoch' | 'proxy' | 'retry' | 'stdout' | 'policy';
/** Every default filled in, and every path but `files` and `out` (named in messages as given) absolute. */
export type ResolvedBuildOptions = Required<Omit<BuildOptions, OptionalKeys>> & Pick<BuildOptions, OptionalKeys>;

/** The options naming files and directories lkvol reads (and the cache it writes). */
export type PathOptions = Pick<
  BuildOptions,
  'cacheDir' | 'dockerConfigPath' | 'authFiles' | 'caCertFiles' | 'certsDirs'
>;

/**
 * The path options made absolute against `cwd`, so that they mean what the caller meant however the
 * process's own working directory differs (an embedding program, or the CLI's injected `cwd`).
 */
export function resolvePaths(cwd: string, o: PathOptions): Required<PathOptions> {
  const abs = (p: string) => resolve(cwd, p);
  return {
    cacheDir: abs(o.cacheDir),
    dockerConfigPath: o.dockerConfigPath === undefined ? undefined : abs(o.dockerConfigPath),
    authFiles: (o.authFiles ?? []).map(abs),
    caCertFiles: (o.caCertFiles ?? []).map(abs),
    certsDirs: (o.certsDirs ?? []).map(abs),
  };
}

/** `cwd` absolute: the option when given, else the process's working directory (the one place lib reads it). */
export function resolveCwd(cwd: string | undefined): string {
  return resolve(cwd ?? process.cwd());
}

/** The options `build` and `inspect` share: registries, credentials, TLS, cache policy, events. */
export type RegistryOptions = Pick<
  BuildOptions,
  | 'insecureRegistries'
  | 'authFiles'
  | 'caCertFiles'
  | 'certsDirs'
  | 'offline'
  | 'pull'
  | 'mirrors'
  | 'userAgent'
  | 'onEvent'
>;

/**
 * Checks and fills the registry options shared by build and inspect, in one place.
 * @throws LKVOL_USAGE for `offline` with `pull`, and for a malformed mirror spec.
 */
export function resolveRegistryOptions(command: string, o: RegistryOptions): Required<RegistryOptions> {
  if (o.offline === true && o.pull === true)
    throw new LkvolError('LKVOL_USAGE', `${command}: --offline and --pull contradict each other`, {
      hint: 'use --pull to re-resolve tags, or --offline to use only the cache',
    });
  for (const m of o.mirrors ?? []) parseMirror(m);
  return {
    insecureRegistries: o.insecureRegistries ?? [],
    authFiles: o.authFiles ?? [],
    caCertFiles: o.caCertFiles ?? [],
    certsDirs: o.certsDirs ?? [],
    offline: o.offline ?? false,
    pull: o.pull ?? false,
    mirrors: o.mirrors ?? [],
    userAgent: o.userAgent ?? `lkvol/${version}`,
    onEvent: o.onEvent ?? discardEvents,
  };
}

/**
 * Fills defaults and checks option combinations.
 * @throws LKVOL_USAGE for `offline` with `pull`, and for a malformed mirror spec.
 */
export function resolveBuildOptions(o: BuildOptions): ResolvedBuildOptions {
  const cwd = resolveCwd(o.cwd);
  return {
    ...o,
    ...resolveRegistryOptions('build', o),
    ...resolvePaths(cwd, o),
    cwd,
    home: resolve(cwd, o.home ?? homedir()),
    jobs: o.jobs ?? 4,
    applyOwnership: o.applyOwnership ?? false,
    limits: o.limits ?? {},
    reuse: o.reuse ?? true,
    rootfs: o.rootfs ?? false,
    locked: o.locked ?? false,
    format: outputFormat(o),
  };
}

/** `format`, or the one `out` implies; `dir` for a name that implies tar is a contradiction. @throws LKVOL_USAGE */
function outputFormat(o: BuildOptions): 'dir' | 'tar' {
  const tarName = o.out === '-' || /\.tar$/i.test(o.out);
  if (o.format === 'dir' && tarName)
    throw new LkvolError('LKVOL_USAGE', `output ${JSON.stringify(o.out)} is a tar output, but the format is dir`, {
      hint: 'leave out --format, or name a directory',
    });
  if (o.out === '-' && o.stdout === undefined)
    throw new LkvolError('LKVOL_USAGE', 'output "-" needs a stream to write the tar to', { hint: 'pass `stdout`' });
  return o.format ?? (tarName ? 'tar' : 'dir');
}

/** The caps of one volume: its `sizeLimit` stands in for the byte cap when it is the tighter of the two. */
export function volumeLimits(volume: LoadedVolume, limits: ResolvedBuildOptions['limits']): VolumeLimits {
  const bySize =
    volume.sizeLimit !== undefined && (limits.maxBytes === undefined || volume.sizeLimit <= limits.maxBytes);
  return {
    maxBytes: bySize ? volume.sizeLimit : limits.maxBytes,
    maxEntries: limits.maxEntries,
    maxDepth: limits.maxDepth,
    limitName: bySize ? `sizeLimit of volume "${volume.name}"` : undefined,
  };
}
