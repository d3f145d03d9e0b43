// Credential lookup in a Docker config.json whose path the caller gives; secrets never reach messages.
import { readFile } from 'node:fs/promises';
import { LkvolError, wrapError } from '../errors.js';

/** What a registry accepts: user + password (Basic or token request), an identity (refresh) token, or a raw registry token. */
export interface Credentials {
  username?: string | undefined;
  password?: string | undefined;
  identityToken?: string | undefined;
  registryToken?: string | undefined;
}

/** Finds credentials for a registry host as written in a reference (`docker.io`, `127.0.0.1:5000`). */
export type CredentialResolver = (registry: string) => Promise<Credentials | undefined>;

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
  registrytoken?: unknown;
}

/** Hosts that all mean Docker Hub, and the key `docker login` writes for it. */
const dockerHubAliases = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * Reads a Docker `config.json` (the CLI derives the path from `DOCKER_CONFIG` or the home directory)
 * and returns a resolver over its `auths`. No path or a missing file means anonymous access.
 * @throws LKVOL_IO when the file exists but cannot be read; LKVOL_REGISTRY_AUTH when it is malformed.
 */
export async function loadDockerCredentials(path: string | undefined, opts: { signal?: AbortSignal | undefined } = {}): Promise<CredentialResolver> {
  if (path === undefined) return () => Promise.resolve(undefined);
  let text: string;
  try {
    text = await readFile(path, { encoding: 'utf8', ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return () => Promise.resolve(undefined);
    throw wrapError(err, 'LKVOL_IO', `read docker config ${path}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new LkvolError('LKVOL_REGISTRY_AUTH', `docker config ${path}: not valid JSON`, { cause: err, hint: `fix or remove ${path}` });
  }
  const auths = (parsed as { auths?: unknown } | null)?.auths ?? {};
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
    throw new LkvolError('LKVOL_REGISTRY_AUTH', `docker config ${path}: "auths" must be an object`, { hint: `fix or remove ${path}` });
  }
  const entries = auths as Record<string, AuthEntry>;
  return (registry) => Promise.resolve(lookupCredentials(entries, registry, path));
}

/**
 * The credentials of `registry` in an `auths` map. A key written exactly as the registry wins; then keys
 * normalised to a host (`https://index.docker.io/v1/` → `docker.io`).
 * @throws LKVOL_REGISTRY_AUTH when the matching entry is malformed (the secret is not echoed).
 */
export function lookupCredentials(auths: Record<string, AuthEntry>, registry: string, source = 'docker config'): Credentials | undefined {
  const want = normalizeAuthKey(registry);
  const key = registry in auths ? registry : Object.keys(auths).find((k) => normalizeAuthKey(k) === want);
  if (key === undefined) return undefined;
  return entryCredentials(auths[key] ?? {}, `${source}: auths[${JSON.stringify(key)}]`);
}

/** `https://index.docker.io/v1/` → `docker.io`; `http://host:5000/path` → `host:5000`; lowercases. */
export function normalizeAuthKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0]!.toLowerCase();
  return dockerHubAliases.has(host) ? 'docker.io' : host;
}

function entryCredentials(entry: AuthEntry, where: string): Credentials | undefined {
  const bad = (field: string, want: string) => new LkvolError('LKVOL_REGISTRY_AUTH', `${where}.${field}: ${want}`, { hint: 'run "docker login" again to rewrite the entry' });
  const str = (field: keyof AuthEntry): string | undefined => {
    const v = entry[field];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw bad(field, 'must be a string');
    return v;
  };
  const creds: Credentials = {};
  const auth = str('auth');
  if (auth !== undefined) {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (!/^[A-Za-z0-9+/=\s]+$/.test(auth) || colon <= 0) throw bad('auth', 'must be base64 of user:password');
    creds.username = decoded.slice(0, colon);
    creds.password = decoded.slice(colon + 1);
  }
  creds.username = str('username') ?? creds.username;
  creds.password = str('password') ?? creds.password;
  const identityToken = str('identitytoken');
  const registryToken = str('registrytoken');
  if (identityToken !== undefined) creds.identityToken = identityToken;
  if (registryToken !== undefined) creds.registryToken = registryToken;
  const defined = Object.entries(creds).filter(([, v]) => v !== undefined);
  return defined.length === 0 ? undefined : (Object.fromEntries(defined) as Credentials);
}
