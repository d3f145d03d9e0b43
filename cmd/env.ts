// The environment variables lkvol reads; lib never reads the environment itself.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';

type Env = Record<string, string | undefined>;

/** `$HOME`, else the account's home directory. */
export function homeDir(env: Env): string {
  return nonEmpty(env['HOME']) ? env['HOME'] : homedir();
}

/** `$LKVOL_CACHE`, else `$XDG_CACHE_HOME/lkvol`, else `~/.cache/lkvol`. */
export function defaultCachePath(env: Env): string {
  if (nonEmpty(env['LKVOL_CACHE'])) return env['LKVOL_CACHE'];
  if (nonEmpty(env['XDG_CACHE_HOME'])) return join(env['XDG_CACHE_HOME'], 'lkvol');
  return join(homeDir(env), '.cache', 'lkvol');
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (read only if it exists). */
export function dockerConfigPath(env: Env): string {
  if (nonEmpty(env['DOCKER_CONFIG'])) return join(env['DOCKER_CONFIG'], 'config.json');
  return join(homeDir(env), '.docker', 'config.json');
}

/**
 * The credentials files after the Docker config, in ggcr's order: `$REGISTRY_AUTH_FILE`, then
 * `$XDG_RUNTIME_DIR/containers/auth.json`, then `$XDG_CONFIG_HOME/containers/auth.json` (default `~/.config`).
 */
export function authFilePaths(env: Env): string[] {
  const paths: string[] = [];
  if (nonEmpty(env['REGISTRY_AUTH_FILE'])) paths.push(env['REGISTRY_AUTH_FILE']);
  if (nonEmpty(env['XDG_RUNTIME_DIR'])) paths.push(join(env['XDG_RUNTIME_DIR'], 'containers', 'auth.json'));
  paths.push(join(configHome(env), 'containers', 'auth.json'));
  return paths;
}

/**
 * Where per-registry `<host:port>/ca.crt` directories are looked for when `--certs-dir` is not given (podman rootless,
 * podman, docker).
 */
export function defaultCertsDirs(env: Env): string[] {
  return [join(configHome(env), 'containers', 'certs.d'), '/etc/containers/certs.d', '/etc/docker/certs.d'];
}

function configHome(env: Env): string {
  return nonEmpty(env['XDG_CONFIG_HOME']) ? env['XDG_CONFIG_HOME'] : join(homeDir(env), '.config');
}

function nonEmpty(v: string | undefined): v is string {
  return v !== undefined && v !== '';
}

/**
 * `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` (lower case first, as curl reads them); undefined when no
 * proxy is set. lib takes them as options and never reads the environment.
 */
export function proxyFromEnv(env: Env): { httpProxy?: string; httpsProxy?: string; noProxy?: string } | undefined {
  const pick = (name: string) => [env[name.toLowerCase()], env[name]].find(nonEmpty);
  const httpProxy = pick('HTTP_PROXY');
  const httpsProxy = pick('HTTPS_PROXY');
  const noProxy = pick('NO_PROXY');
  if (httpProxy === undefined && httpsProxy === undefined) return undefined;
  return {
    ...(httpProxy === undefined ? {} : { httpProxy }),
    ...(httpsProxy === undefined ? {} : { httpsProxy }),
    ...(noProxy === undefined ? {} : { noProxy }),
  };
}

/** Where cmd/lkvol.sh puts NODE_EXTRA_CA_CERTS, so that Node does not read it at start-up. */
const handedOver = 'LKVOL_NODE_EXTRA_CA_CERTS';

/**
 * NODE_EXTRA_CA_CERTS as cmd/lkvol.sh hands it over: put back in `env` (so the programs lkvol starts see it as they
 * would have) and its certificates returned; undefined when Node loaded it itself, or there is none. A file Node could
 * not have used is ignored with a warning like Node's own.
 */
export function takeExtraCaCerts(env: Env, warn: (line: string) => void): string | undefined {
  const file = env[handedOver];
  if (file === undefined) return undefined;
  delete env[handedOver];
  env['NODE_EXTRA_CA_CERTS'] = file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    warn(`Warning: Ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}\n`);
    return undefined;
  }
  if (text.includes('-----BEGIN CERTIFICATE-----')) return text;
  warn(`Warning: Ignoring extra certs from \`${file}\`, load failed: no PEM certificate in it\n`);
  return undefined;
}

/**
 * MALLOC_ARENA_MAX as cmd/lkvol.sh set it for lkvol's own process (glibc read it at start-up): unset again in `env`, so
 * the programs lkvol starts (credential helpers, provisioners) see the environment the user gave. A value the user set
 * is never touched.
 */
export function restoreMallocArenaMax(env: Env): void {
  if (env['LKVOL_MALLOC_ARENA_MAX'] !== 'unset') return;
  delete env['LKVOL_MALLOC_ARENA_MAX'];
  delete env['MALLOC_ARENA_MAX'];
}
