// Mirrors: `REGISTRY=URL` parsing, and the order in which a request tries mirrors and the registry itself.
import { LkvolError, isLkvolError } from '../errors.js';
import { canonicalRegistry } from '../ref/index.js';

/** A mirror of one registry (`--mirror docker.io=http://127.0.0.1:5001`). */
export interface Mirror {
  /** The registry it mirrors, normalised (`index.docker.io` → `docker.io`). */
  registry: string;
  /** The mirror's origin, `http(s)://host[:port]`. */
  url: string;
}

/**
 * Parses `REGISTRY=URL`. URL must be `http(s)://host[:port]` with no path, query or credentials.
 * @throws LKVOL_USAGE naming what was expected and what was given.
 */
export function parseMirror(spec: string): Mirror {
  const bad = (why: string) =>
    new LkvolError('LKVOL_USAGE', `--mirror ${JSON.stringify(spec)}: ${why}`, {
      hint: 'write it as REGISTRY=URL, e.g. docker.io=https://mirror.example.com',
    });
  const eq = spec.indexOf('=');
  if (eq <= 0) throw bad('want REGISTRY=URL');
  const registry = spec.slice(0, eq).trim().toLowerCase();
  if (!/^[a-z0-9.-]+(:\d+)?$/.test(registry))
    throw bad(`registry ${JSON.stringify(registry)} must be a host or host:port`);
  let url: URL;
  try {
    url = new URL(spec.slice(eq + 1).trim());
  } catch {
    throw bad('the URL does not parse');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw bad(`the URL must be http:// or https://, got ${url.protocol}`);
  if (url.username !== '' || url.password !== '')
    throw bad('the URL may not hold credentials (put them in the Docker config)');
  if (
    (url.pathname !== '/' && url.pathname !== '/v2/' && url.pathname !== '/v2') ||
    url.search !== '' ||
    url.hash !== ''
  )
    throw bad('the URL may not have a path, query or fragment');
  return { registry: canonicalRegistry(registry), url: url.origin };
}

/**
 * Where a request may be served: `content` (blobs, digest-pinned manifests) tries mirrors first; `tag` asks the
 * registry first.
 */
export type MirrorPurpose = 'content' | 'tag';

/** A mirror failure reported once per mirror (codes: lib/warnings.ts). */
export interface MirrorWarning {
  code: 'LKVOL_WARN_MIRROR' | 'LKVOL_WARN_MIRROR_RESOLVE';
  message: string;
}

/** Runs `fn` at one endpoint: `mirror` is the mirror URL, or undefined for the registry itself. */
export type EndpointCall<T> = (mirror: string | undefined) => Promise<T>;

/** Routes one call (see `createMirrorRouter`); `what` names the reference for warnings. */
export type MirrorRouter = <T>(
  purpose: MirrorPurpose,
  what: string,
  registry: string,
  fn: EndpointCall<T>,
) => Promise<T>;

/**
 * Tries the endpoints in order. Content: each live mirror, then the registry (a mirror that is
 * unreachable is not tried again by this router). Tags: the registry; only when it is unreachable
 * (LKVOL_REGISTRY_UNAVAILABLE) the mirrors, with a warning, and the registry's error if they fail too.
 * Cancellation is never retried elsewhere.
 */
export function createMirrorRouter(mirrors: readonly string[], onWarning: (w: MirrorWarning) => void): MirrorRouter {
  const dead = new Set<string>();
  const warned = new Set<string>();
  const warnOnce = (key: string, w: MirrorWarning) => {
    if (warned.has(key)) return;
    warned.add(key);
    onWarning(w);
  };
  const live = () => mirrors.filter((m) => !dead.has(m));
  return async function route<T>(
    purpose: MirrorPurpose,
    what: string,
    registry: string,
    fn: EndpointCall<T>,
  ): Promise<T> {
    if (purpose === 'content') {
      for (const m of live()) {
        try {
          return await fn(m);
        } catch (err) {
          if (isLkvolError(err, 'LKVOL_CANCELLED')) throw err;
          if (isLkvolError(err, 'LKVOL_REGISTRY_UNAVAILABLE')) dead.add(m);
          warnOnce(`content ${m}`, {
            code: 'LKVOL_WARN_MIRROR',
            message: `mirror ${m} of ${registry} failed, using ${registry}: ${err instanceof Error ? err.message : String(err)}`,
          });
        }
      }
      return fn(undefined);
    }
    try {
      return await fn(undefined);
    } catch (err) {
      if (!isLkvolError(err, 'LKVOL_REGISTRY_UNAVAILABLE') || mirrors.length === 0) throw err;
      for (const m of live()) {
        const result = await fn(m).then(
          (v) => ({ v }),
          () => undefined,
        );
        if (result === undefined) continue;
        warnOnce(`tag ${m}`, {
          code: 'LKVOL_WARN_MIRROR_RESOLVE',
          message: `${registry} is unreachable; resolved ${what} at mirror ${m}, which may be stale`,
        });
        return result.v;
      }
      throw err;
    }
  };
}
