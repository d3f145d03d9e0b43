// The environment variables lkvol reads; lib never reads the environment itself.
import { join } from 'node:path';
import { homedir } from 'node:os';

type Env = Record<string, string | undefined>;

/** `$LKVOL_CACHE`, else `$XDG_CACHE_HOME/lkvol`, else `~/.cache/lkvol`. */
export function defaultCachePath(env: Env): string {
  if (nonEmpty(env['LKVOL_CACHE'])) return env['LKVOL_CACHE'];
  if (nonEmpty(env['XDG_CACHE_HOME'])) return join(env['XDG_CACHE_HOME'], 'lkvol');
  return join(env['HOME'] ?? homedir(), '.cache', 'lkvol');
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (read only if it exists). */
export function dockerConfigPath(env: Env): string {
  if (nonEmpty(env['DOCKER_CONFIG'])) return join(env['DOCKER_CONFIG'], 'config.json');
  return join(env['HOME'] ?? homedir(), '.docker', 'config.json');
}

function nonEmpty(v: string | undefined): v is string {
  return v !== undefined && v !== '';
}
