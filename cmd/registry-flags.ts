// The registry and cache flags shared by `build`, `lock` and `inspect`, and the options they become.
import { hostPlatform } from '../lib/index.js';
import { authFilePaths, defaultCachePath, defaultCertsDirs, dockerConfigPath, proxyFromEnv } from './env.js';
import type { CommandIO } from './io.js';

/** parseArgs declarations of the shared flags. */
export const registryFlags = {
  platform: { type: 'string' },
  cache: { type: 'string' },
  pull: { type: 'boolean' },
  offline: { type: 'boolean' },
  mirror: { type: 'string', multiple: true },
  'insecure-registry': { type: 'string', multiple: true },
  'ca-cert': { type: 'string', multiple: true },
  'certs-dir': { type: 'string', multiple: true },
  debug: { type: 'boolean' },
} as const;

/** The usage lines of the registry flags `lock` and `inspect` share (build explains them at more length). */
export const registryFlagsUsage = `      --cache DIR             blob cache (default: $LKVOL_CACHE, else $XDG_CACHE_HOME/lkvol, else ~/.cache/lkvol)
      --pull | --offline      re-resolve tags at the registry | use only the cache
      --mirror REGISTRY=URL   fetch blobs and digests of REGISTRY from URL first (repeatable)
      --insecure-registry H   do not verify TLS for registry host H and allow plain HTTP (repeatable)
      --ca-cert FILE          trust the CA certificates in FILE (PEM) for every registry (repeatable)
      --certs-dir DIR         per-registry certificates as DIR/<host:port>/ (repeatable)`;

/** Values parseArgs gives for {@link registryFlags}. */
export interface RegistryFlagValues {
  platform?: string | undefined;
  cache?: string | undefined;
  pull?: boolean | undefined;
  offline?: boolean | undefined;
  mirror?: string[] | undefined;
  'insecure-registry'?: string[] | undefined;
  'ca-cert'?: string[] | undefined;
  'certs-dir'?: string[] | undefined;
}

/** The options of `build()`, `lock()` and `inspectImage()` that come from the shared flags and the environment. */
export function registryOptions(values: RegistryFlagValues, io: CommandIO) {
  return {
    platform: values.platform ?? hostPlatform(io.arch),
    cacheDir: values.cache ?? defaultCachePath(io.env),
    pull: values.pull === true,
    offline: values.offline === true,
    mirrors: values.mirror ?? [],
    proxy: proxyFromEnv(io.env),
    insecureRegistries: values['insecure-registry'] ?? [],
    caCertFiles: values['ca-cert'] ?? [],
    extraCaCerts: io.extraCaCerts,
    certsDirs: values['certs-dir'] ?? defaultCertsDirs(io.env),
    dockerConfigPath: dockerConfigPath(io.env),
    authFiles: authFilePaths(io.env),
    env: io.env,
    signal: io.signal,
    // Relative paths (system files, OUT, --cache, --ca-cert, …) mean what they mean in the caller's directory.
    cwd: io.cwd,
  };
}
