// Build options and their defaults, filled in one place.
import type { EventSink } from '../events.js';
import { discardEvents } from '../events.js';

export interface BuildOptions {
  /** System files, merged in order. */
  files: string[];
  /** Output directory (replaced atomically). */
  out: string;
  /** Blob cache directory. */
  cacheDir: string;
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
  /** lchown extracted entries (the CLI passes true when running as root). Default false. */
  applyOwnership?: boolean;
  /** Caps on what one volume may unpack. */
  limits?: { maxBytes?: number | undefined; maxEntries?: number | undefined; maxDepth?: number | undefined };
  /** When set, synthesised entries (directories, specs, lkvol.json, OCI layouts) are dated at these seconds since the epoch. */
  sourceDateEpoch?: number | undefined;
  /** `User-Agent` sent to registries. */
  userAgent?: string;
  /** Progress and warnings. */
  onEvent?: EventSink;
  signal?: AbortSignal;
}

type OptionalKeys = 'dockerConfigPath' | 'credentialHelperEnv' | 'signal' | 'sourceDateEpoch';
export type ResolvedBuildOptions = Required<Omit<BuildOptions, OptionalKeys>> & Pick<BuildOptions, OptionalKeys>;

/** Fills defaults. */
export function resolveBuildOptions(o: BuildOptions): ResolvedBuildOptions {
  return {
    ...o,
    jobs: o.jobs ?? 4,
    insecureRegistries: o.insecureRegistries ?? [],
    authFiles: o.authFiles ?? [],
    caCertFiles: o.caCertFiles ?? [],
    certsDirs: o.certsDirs ?? [],
    applyOwnership: o.applyOwnership ?? false,
    limits: o.limits ?? {},
    userAgent: o.userAgent ?? 'lkvol',
    onEvent: o.onEvent ?? discardEvents,
  };
}

/** `linux/<arch>` for a Node `process.arch` value, with OCI architecture names. */
export function hostPlatform(nodeArch: string): string {
  const arch: Record<string, string> = { x64: 'amd64', ia32: '386', arm: 'arm/v7', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };
  return `linux/${arch[nodeArch] ?? nodeArch}`;
}
