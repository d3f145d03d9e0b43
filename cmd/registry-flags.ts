// The registry and cache flags shared by `build` and `inspect`, and the options they become.
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

/** The options of `build()` and `inspectImage()` that come from the shared flags and the environment. */
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
    certsDirs: values['certs-dir'] ?? defaultCertsDirs(io.env),
    dockerConfigPath: dockerConfigPath(io.env),
    authFiles: authFilePaths(io.env),
    credentialHelperEnv: io.env,
    signal: io.signal,
    // Relative paths (system files, OUT, --cache, --ca-cert, …) mean what they mean in the caller's directory.
    cwd: io.cwd,
  };
}
