// The options of everything that pulls images (build, inspect, lock), and their defaults, filled in one place.
import { resolve } from 'node:path';
import { LkvolError } from '../errors.js';
import type { EventSink } from '../events.js';
import { discardEvents } from '../events.js';
import { version } from '../version.js';
import { workingDirectory } from '../internal/process.js';
import { parseMirror, type ProxyOptions, type RetryOptions } from '../registry/index.js';

/** Where images come from and how they are reached: registries, credentials, TLS, the cache and its policy. */
export interface PullOptions {
  /** Blob cache directory, relative to `cwd`. */
  cacheDir: string;
  /** The directory every relative path of these options is taken from. Default: the process's working directory. */
  cwd?: string;
  /** Target platform `os/arch[/variant]`; the CLI defaults it to `linux/<host arch>`. */
  platform: string;
  /** Hosts reached over plain HTTP when they do not speak TLS (loopback always is). */
  insecureRegistries?: string[];
  /** Path of a Docker config.json to read credentials from, if any (the first credentials source). */
  dockerConfigPath?: string | undefined;
  /**
   * Further credentials files, tried in order after `dockerConfigPath` (`$REGISTRY_AUTH_FILE`, containers `auth.json`).
   */
  authFiles?: string[];
  /**
   * The environment of the programs lkvol starts: `docker-credential-*` helpers and provisioners, and the
   * PATH that finds them (the CLI passes its own). lib reads no environment variable itself (STYLE.md
   * section 2), so without it credential helpers inherit the process's environment and a provisioner gets
   * none: a named provisioner (`provisioner: { name }`) is then not found on any PATH.
   */
  env?: Record<string, string | undefined> | undefined;
  /** Files of CA certificates trusted for every registry (`--ca-cert`). */
  caCertFiles?: string[];
  /**
   * PEM text of CA certificates added to Node's roots for every registry, unchecked, as Node adds `NODE_EXTRA_CA_CERTS`
   * (the lkvol command passes that file's text when it kept Node from loading it at start-up, see cmd/lkvol.sh).
   */
  extraCaCerts?: string | undefined;
  /** Directories of `<host:port>/ca.crt` and client certificates (`--certs-dir`). */
  certsDirs?: string[];
  /**
   * Use the cache and local images alone: no registry is contacted; a missing tag or blob is an error naming it. Not
   * with `pull`.
   */
  offline?: boolean;
  /**
   * Resolve every tag with a GET at its registry, even when the cached record is current (default: revalidate with
   * HEAD).
   */
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

/** The options naming files and directories lkvol reads (and the cache it writes). */
export type PathOptions = Pick<
  PullOptions,
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
  return resolve(cwd ?? workingDirectory());
}

/** The options `build` and `inspect` share: registries, credentials, TLS, cache policy, events. */
export type RegistryOptions = Pick<
  PullOptions,
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
