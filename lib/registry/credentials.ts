// Credential lookup over the files the caller lists (Docker config, containers auth.json) and their helpers.
import { LkvolError } from '../errors.js';
import {
  authSourcesFor,
  helperServerUrl,
  readAuthFile,
  type AuthEntry,
  type AuthFile,
  type Credentials,
} from './auth-file.js';
import { runCredentialHelper } from './cred-helper.js';

export { normalizeAuthKey, type Credentials } from './auth-file.js';

/** Finds credentials for a repository (`registry` as written in a reference, `repository` without it). */
export type CredentialResolver = (registry: string, repository?: string) => Promise<Credentials | undefined>;

/**
 * A note that does not stop the pull (a helper that is missing or has nothing), for BuildEvent warnings
 * (codes: lib/warnings.ts).
 */
export type CredentialWarning = { code: 'LKVOL_WARN_CREDENTIALS'; message: string };

export interface CredentialOptions {
  /**
   * Credentials files in priority order; missing ones are skipped. The CLI lists the Docker config,
   * `$REGISTRY_AUTH_FILE` and the containers `auth.json` files.
   */
  files: readonly (string | undefined)[];
  /**
   * Environment of credential helpers (PATH finds them; pass/secretservice need HOME, GNUPGHOME, DBUS…). Undefined:
   * inherited.
   */
  helperEnv?: Record<string, string | undefined> | undefined;
  onWarning?: ((warning: CredentialWarning) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Reads every file now (so a broken one fails before any pull) and returns a resolver that tries them in
 * order; inside a file `credHelpers[host]` beats `credsStore` beats `auths`. A helper that is not installed
 * or has nothing for the registry is skipped with a warning, and lookup goes on (anonymous at the end).
 * Helpers run at most once per server URL.
 * @throws LKVOL_IO, LKVOL_REGISTRY_AUTH (a malformed file; later, a failing helper or a malformed entry).
 */
export async function loadCredentials(opts: CredentialOptions): Promise<CredentialResolver> {
  const files: AuthFile[] = [];
  for (const path of opts.files) {
    if (path === undefined || path === '') continue;
    const file = await readAuthFile(path, opts.signal);
    if (file !== undefined) files.push(file);
  }
  const helperRuns = new Map<string, Promise<Credentials | undefined>>();
  const ask = (helper: string, registry: string): Promise<Credentials | undefined> => {
    const serverUrl = helperServerUrl(registry);
    const key = `${helper}\0${serverUrl}`;
    let run = helperRuns.get(key);
    if (run === undefined) {
      run = askHelper(helper, serverUrl, opts);
      helperRuns.set(key, run);
    }
    return run;
  };
  return async (registry, repository) => {
    for (const file of files) {
      for (const source of authSourcesFor(file, registry, repository)) {
        const found =
          source.kind === 'inline' ? entryCredentials(source.entry, source.where) : await ask(source.helper, registry);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
}

async function askHelper(helper: string, serverUrl: string, opts: CredentialOptions): Promise<Credentials | undefined> {
  const result = await runCredentialHelper({ helper, serverUrl, env: opts.helperEnv, signal: opts.signal });
  if (result.kind === 'found') return result.credentials;
  const why =
    result.reason === 'missing'
      ? `docker-credential-${helper} is not on PATH`
      : `docker-credential-${helper} has no credentials for ${serverUrl}`;
  opts.onWarning?.({
    code: 'LKVOL_WARN_CREDENTIALS',
    message: `${why}; trying other credential sources, else pulling anonymously`,
  });
  return undefined;
}

/**
 * Reads one Docker `config.json` (the CLI derives the path from `DOCKER_CONFIG` or the home directory).
 * Kept for callers with a single file; `loadCredentials` is the general form.
 * @throws LKVOL_IO, LKVOL_REGISTRY_AUTH.
 */
export function loadDockerCredentials(
  path: string | undefined,
  opts: Omit<CredentialOptions, 'files'> = {},
): Promise<CredentialResolver> {
  return loadCredentials({ ...opts, files: [path] });
}

/**
 * The credentials of `registry` in an `auths` map (no helpers): the longest namespace match, an exact key
 * before an alias (`https://index.docker.io/v1/` → `docker.io`). `source` names the map in messages
 * (default `docker config`); `repository` narrows the match to its namespace.
 * @throws LKVOL_REGISTRY_AUTH when the matching entry is malformed (the secret is not echoed).
 */
export function lookupCredentials(
  auths: Record<string, AuthEntry>,
  registry: string,
  o: { source?: string; repository?: string } = {},
): Credentials | undefined {
  const sources = authSourcesFor(
    { path: o.source ?? 'docker config', credHelpers: new Map(), credsStore: undefined, auths },
    registry,
    o.repository,
  );
  const inline = sources.find((s) => s.kind === 'inline');
  return inline?.kind === 'inline' ? entryCredentials(inline.entry, inline.where, false) : undefined;
}

function entryCredentials(entry: AuthEntry, where: string, withOrigin = true): Credentials | undefined {
  const bad = (field: string, want: string) =>
    new LkvolError('LKVOL_REGISTRY_AUTH', `${where}.${field}: ${want}`, { hint: 'log in again to rewrite the entry' });
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
  creds.identityToken = str('identitytoken');
  creds.registryToken = str('registrytoken');
  const defined = Object.entries(creds).filter(([, v]) => v !== undefined);
  if (defined.length === 0) return undefined;
  return Object.fromEntries(withOrigin ? [...defined, ['origin', where]] : defined) as Credentials;
}
