// Fetches a Bearer token from a challenge's realm: GET with Basic, or the OAuth2 refresh-token POST.
import { LkvolError } from '../errors.js';
import type { Credentials } from './auth-file.js';
import type { Sender } from './send.js';
import type { Challenge } from './challenge.js';
import { describeRequest, redactUrl } from './redact.js';
import { bodyLimits, readCapped, statusError, type ExchangeContext } from './response.js';

/** A token and when to stop using it. */
export interface CachedToken {
  token: string;
  expiresAt: number;
}

export interface TokenRequest {
  registry: string;
  credentials: Credentials | undefined;
  /** A plain-HTTP realm is allowed (the registry itself was reached over HTTP, or is `--insecure-registry`). */
  allowHttpRealm: boolean;
  send: Sender;
  /** Scopes to ask for; the newest first (ggcr puts newly required scopes first). */
  scopes: readonly string[];
  subject: string;
  signal: AbortSignal | undefined;
}

/** Docker's token spec: tokens without `expires_in` live 60 s. We refresh 10 s early. */
const defaultTokenLifetimeS = 60;
const refreshMarginMs = 10_000;

/**
 * Gets a token for `scopes`. With an identity token it POSTs `grant_type=refresh_token` (docker, ggcr) and
 * falls back to the GET flow when the realm answers 404 (ggcr `refreshOauth`); otherwise it GETs the realm
 * with `service` and `scope`, sending user and password as Basic to the realm, never to the registry.
 * @throws LKVOL_REGISTRY_AUTH (401/403 from the realm), LKVOL_REGISTRY_PROTOCOL (bad realm or response),
 * LKVOL_REGISTRY_UNAVAILABLE.
 */
export async function fetchToken(r: TokenRequest, challenge: Challenge): Promise<CachedToken> {
  const realm = parseRealm(challenge, r);
  const service = challenge.params.service;
  const identityToken = r.credentials?.identityToken;
  if (identityToken !== undefined) {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: identityToken,
      client_id: 'lkvol',
      scope: r.scopes.join(' '),
    });
    if (service !== undefined) form.set('service', service);
    const res = await exchange(r, {
      method: 'POST',
      url: realm,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    if (res !== 'not-found') return res;
  }
  const url = new URL(realm);
  if (service !== undefined) url.searchParams.set('service', service);
  for (const scope of r.scopes) url.searchParams.append('scope', scope);
  const basic = basicCredentials(r.credentials);
  const token = await exchange(r, { method: 'GET', url, headers: basic === undefined ? {} : { authorization: basic } });
  if (token === 'not-found')
    throw new LkvolError('LKVOL_INTERNAL', 'token GET reported as refresh fallback', {
      hint: 'this is a bug; please report it',
    });
  return token;
}

/** `Basic base64(user:password)`, or undefined without a username and password. */
export function basicCredentials(credentials: Credentials | undefined): string | undefined {
  if (credentials?.username === undefined || credentials.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

async function exchange(
  r: TokenRequest,
  { method, url, headers, body }: { method: 'GET' | 'POST'; url: URL; headers: Record<string, string>; body?: string },
): Promise<CachedToken | 'not-found'> {
  const ctx: ExchangeContext = {
    subject: r.subject,
    method,
    url: redactUrl(url),
    request: describeRequest(method, url, undefined),
    registry: r.registry,
  };
  const res = await r.send({ method, url, headers, ...(body === undefined ? {} : { body }), ctx, signal: r.signal });
  const bytes = await readCapped(res.body, ctx, {
    limit: res.status === 200 ? bodyLimits.token : bodyLimits.error,
    contentLength: res.headers['content-length'],
  });
  if (method === 'POST' && res.status === 404) return 'not-found';
  if (res.status !== 200) throw statusError(res.status, ctx, { note: ' (token request)' });
  return parseTokenResponse(bytes, ctx);
}

function parseRealm(challenge: Challenge, r: TokenRequest): URL {
  const protocolError = (why: string, hint = 'the registry sent a bad WWW-Authenticate header') =>
    new LkvolError('LKVOL_REGISTRY_PROTOCOL', `${r.subject}: bearer challenge from ${r.registry}: ${why}`, { hint });
  const realm = challenge.params.realm;
  if (realm === undefined) throw protocolError('no realm');
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw protocolError(`realm ${JSON.stringify(redactUrl(realm))} is not a URL`);
  }
  // Credentials must not leave a TLS registry in clear text (ggcr `validateRealmURL`).
  if (url.protocol === 'http:' && !r.allowHttpRealm)
    throw protocolError(
      `realm ${redactUrl(url)} must be https for a registry reached over https`,
      `serve the token realm over https, or pass --insecure-registry ${r.registry}`,
    );
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw protocolError(`realm ${redactUrl(url)} must be https`);
  return url;
}

function parseTokenResponse(bytes: Buffer, ctx: ExchangeContext): CachedToken {
  let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as typeof parsed;
  } catch {
    // No cause: the parser's message quotes the body, which holds the token.
    throw new LkvolError('LKVOL_REGISTRY_PROTOCOL', `${ctx.subject}: ${ctx.request}: token response is not JSON`);
  }
  const token = typeof parsed?.token === 'string' && parsed.token !== '' ? parsed.token : parsed?.access_token;
  if (typeof token !== 'string' || token === '')
    throw new LkvolError('LKVOL_REGISTRY_PROTOCOL', `${ctx.subject}: ${ctx.request}: token response has no token`);
  const lifetimeS =
    typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : defaultTokenLifetimeS;
  return { token, expiresAt: Date.now() + Math.max(0, lifetimeS * 1000 - refreshMarginMs) };
}
