// One credentials file (Docker config.json or containers auth.json): which source serves a repository.
import { readFile } from 'node:fs/promises';
import { LkvolError, wrapError } from '../errors.js';
import { canonicalRegistry } from '../ref/index.js';

/**
 * What a registry accepts: user + password (Basic or token request), an identity (refresh) token, or a raw registry
 * token.
 */
export interface Credentials {
  username?: string | undefined;
  password?: string | undefined;
  identityToken?: string | undefined;
  registryToken?: string | undefined;
  /**
   * Where they came from (`<file> auths["quay.io/org"]`, `docker-credential-pass`); never secret. Transports are shared
   * per origin.
   */
  origin?: string | undefined;
}

/** An `auths` entry as written by `docker login`, `podman login` or by hand. */
export interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
  registrytoken?: unknown;
}

/** A parsed credentials file. */
export interface AuthFile {
  path: string;
  /** `credHelpers`, keyed by normalised host. */
  credHelpers: Map<string, string>;
  credsStore: string | undefined;
  auths: Record<string, AuthEntry>;
}

/** Where one file says a repository's credentials are, in priority order. */
export type AuthSource =
  { kind: 'helper'; helper: string; where: string } | { kind: 'inline'; entry: AuthEntry; where: string };

/**
 * Reads one credentials file. A missing file is `undefined` (the source is simply not used).
 * @throws LKVOL_IO when it exists but cannot be read; LKVOL_REGISTRY_AUTH when it is not a JSON object of the expected
 * shape.
 */
export async function readAuthFile(path: string, signal?: AbortSignal): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, { encoding: 'utf8', ...(signal === undefined ? {} : { signal }) });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw wrapError(err, 'LKVOL_IO', `read credentials file ${path}`);
  }
  const bad = (why: string, cause?: unknown) =>
    new LkvolError('LKVOL_REGISTRY_AUTH', `credentials file ${path}: ${why}`, { cause, hint: `fix or remove ${path}` });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // NB: the JSON error quotes the text near the fault, which may be a secret; keep it out of the cause.
    throw bad('not valid JSON');
  }
  if (!isObject(parsed)) throw bad('must be a JSON object');
  const {
    auths = {},
    credHelpers = {},
    credsStore,
  } = parsed as { auths?: unknown; credHelpers?: unknown; credsStore?: unknown };
  if (!isObject(auths)) throw bad('"auths" must be an object');
  if (!isObject(credHelpers) || !Object.values(credHelpers).every(isHelperName))
    throw bad('"credHelpers" must map hosts to helper names');
  if (credsStore !== undefined && credsStore !== '' && !isHelperName(credsStore))
    throw bad('"credsStore" must be a helper name');
  const helpers = new Map(
    Object.entries(credHelpers as Record<string, string>).map(([k, v]) => [normalizeAuthKey(k), v]),
  );
  return {
    path,
    credHelpers: helpers,
    credsStore: credsStore === '' ? undefined : (credsStore as string | undefined),
    auths: auths as Record<string, AuthEntry>,
  };
}

/**
 * The sources a file offers for `registry/repository`: `credHelpers[host]`, then `credsStore`, then the longest
 * matching `auths` key.
 */
export function authSourcesFor(
  file: Pick<AuthFile, 'path' | 'credHelpers' | 'credsStore' | 'auths'>,
  registry: string,
  repository?: string,
): AuthSource[] {
  const sources: AuthSource[] = [];
  const host = normalizeAuthKey(registry);
  const helper = file.credHelpers.get(host);
  if (helper !== undefined) sources.push({ kind: 'helper', helper, where: `${file.path}: credHelpers` });
  if (file.credsStore !== undefined)
    sources.push({ kind: 'helper', helper: file.credsStore, where: `${file.path}: credsStore` });
  const key = matchAuthKey(Object.keys(file.auths), registry, repository);
  if (key !== undefined)
    sources.push({
      kind: 'inline',
      entry: file.auths[key] ?? {},
      where: `${file.path}: auths[${JSON.stringify(key)}]`,
    });
  return sources;
}

/**
 * The `auths` key for a repository: the longest namespace match (`quay.io/org/repo`, `quay.io/org`, `quay.io`)
 * as containers/image `authKeyLookupOrder`; among keys meaning the same, one written exactly wins over an alias.
 */
export function matchAuthKey(keys: readonly string[], registry: string, repository?: string): string | undefined {
  const host = normalizeAuthKey(registry);
  const parts = repository === undefined || repository === '' ? [] : repository.split('/');
  for (let n = parts.length; n >= 0; n--) {
    const want = [host, ...parts.slice(0, n)].join('/');
    const exact = n === 0 && keys.includes(registry) ? registry : keys.find((k) => k === want);
    const found = exact ?? keys.find((k) => normalizeAuthKey(k) === want);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `https://index.docker.io/v1/` → `docker.io`; `http://host:5000/path` → `host:5000`; `quay.io/org/` → `quay.io/org`. Hosts are lowercased. */
export function normalizeAuthKey(key: string): string {
  const stripped = key.replace(/^https?:\/\//i, '');
  // A URL key's path is the legacy `/v1/`, not a namespace (containers/image `normalizeAuthFileKey`).
  const [rawHost = '', ...rest] = (stripped === key ? stripped : stripped.split('/')[0]!).split('/');
  const lower = rawHost.toLowerCase();
  const host = canonicalRegistry(lower);
  return [host, ...rest].join('/').replace(/\/+$/, '');
}

/** The server URL a credential helper is asked about: Docker Hub's legacy key, else the host. */
export function helperServerUrl(registry: string): string {
  return normalizeAuthKey(registry) === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isHelperName(v: unknown): v is string {
  // The name becomes part of an executable name: no paths, no shell metacharacters.
  return typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v);
}
