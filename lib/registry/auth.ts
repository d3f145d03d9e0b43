// The registry auth handshake: pick a challenge, fetch and cache Bearer tokens per scope, or send Basic.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { LkvolError } from '../errors.js';
import type { Challenge } from './challenge.js';
import type { Credentials } from './credentials.js';
import { describeRequest, redactUrl } from './redact.js';
import { bodyLimits, readCapped, statusError, type ExchangeContext } from './response.js';

/** One HTTP exchange with retries but no redirects, supplied by the transport. */
export type Sender = (req: {
  method: 'GET' | 'HEAD' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  ctx: ExchangeContext;
  signal: AbortSignal | undefined;
  /** Errors that must not be retried here (the TLS probe of a loopback registry). */
  noRetry?: (err: unknown) => boolean;
}) => Promise<{ status: number; headers: IncomingHttpHeaders; body: Readable & { dump(): Promise<void> } }>;

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Docker's token spec: tokens without `expires_in` live 60 s. We refresh 10 s early. */
const defaultTokenLifetimeS = 60;
const refreshMarginMs = 10_000;

/** Chooses how to authorise a scope and remembers Bearer tokens per realm, service and scope. */
export interface Authorizer {
  /** The `Authorization` value for `scope`, or undefined for anonymous. `fresh` skips the token cache. */
  authorize(challenges: Challenge[], scope: string, opts: { fresh: boolean; subject: string; signal: AbortSignal | undefined }): Promise<string | undefined>;
}

/** Creates an Authorizer. `allowHttpRealm` permits a plain-HTTP token realm (insecure or HTTP registries). */
export function createAuthorizer(opts: { registry: string; credentials: Credentials | undefined; allowHttpRealm: boolean; send: Sender }): Authorizer {
  // Promises, so parallel requests for one scope share a single token request.
  const tokens = new Map<string, Promise<CachedToken>>();
  const basic = basicAuthorization(opts.credentials);
  return {
    async authorize(challenges, scope, req) {
      const bearer = challenges.find((c) => c.scheme === 'bearer');
      if (bearer === undefined) return challenges.some((c) => c.scheme === 'basic') ? basic : undefined;
      if (opts.credentials?.registryToken !== undefined) return `Bearer ${opts.credentials.registryToken}`;
      const key = `${bearer.params.realm ?? ''} ${bearer.params.service ?? ''} ${scope}`;
      // Read the map before any await, so a request started in parallel finds the pending token.
      const pending = req.fresh ? undefined : tokens.get(key);
      if (pending !== undefined) {
        const cached = await pending.catch(() => undefined);
        if (cached !== undefined && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
      }
      const fetching = fetchToken(opts, bearer, scope, req);
      tokens.set(key, fetching);
      fetching.catch(() => {
        if (tokens.get(key) === fetching) tokens.delete(key);
      });
      return `Bearer ${(await fetching).token}`;
    },
  };
}

/** `Basic base64(user:password)`, or undefined without a username and password. */
export function basicAuthorization(credentials: Credentials | undefined): string | undefined {
  if (credentials?.username === undefined || credentials.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

type FetchOptions = { registry: string; credentials: Credentials | undefined; allowHttpRealm: boolean; send: Sender };

async function fetchToken(opts: FetchOptions, challenge: Challenge, scope: string, req: { subject: string; signal: AbortSignal | undefined }): Promise<CachedToken> {
  const realm = parseRealm(challenge, opts, req.subject);
  const service = challenge.params.service;
  const identityToken = opts.credentials?.identityToken;
  const url = new URL(realm);
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (identityToken !== undefined) {
    // OAuth2 refresh-token grant, as docker and ggcr do for identity tokens.
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: identityToken, client_id: 'lkvol', scope });
    if (service !== undefined) form.set('service', service);
    body = form.toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else {
    if (service !== undefined) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    const basic = basicAuthorization(opts.credentials);
    if (basic !== undefined) headers.authorization = basic;
  }
  const method = body === undefined ? 'GET' : 'POST';
  const ctx: ExchangeContext = { subject: req.subject, method, url: redactUrl(url), request: describeRequest(method, url, undefined), registry: opts.registry };
  const res = await opts.send({ method, url, headers, ...(body === undefined ? {} : { body }), ctx, signal: req.signal });
  const bytes = await readCapped(res.body, res.status === 200 ? bodyLimits.token : bodyLimits.error, ctx, res.headers['content-length']);
  if (res.status !== 200) throw statusError(res.status, {}, ctx, ' (token request)');
  return parseTokenResponse(bytes, ctx);
}

function parseRealm(challenge: Challenge, opts: FetchOptions, subject: string): URL {
  const protocolError = (why: string) =>
    new LkvolError('LKVOL_REGISTRY_PROTOCOL', `${subject}: bearer challenge from ${opts.registry}: ${why}`, { hint: 'the registry sent a bad WWW-Authenticate header' });
  const realm = challenge.params.realm;
  if (realm === undefined) throw protocolError('no realm');
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw protocolError(`realm ${JSON.stringify(redactUrl(realm))} is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && opts.allowHttpRealm)) throw protocolError(`realm ${redactUrl(url)} must be https`);
  return url;
}

function parseTokenResponse(bytes: Buffer, ctx: ExchangeContext): CachedToken {
  let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as typeof parsed;
  } catch (err) {
    throw new LkvolError('LKVOL_REGISTRY_PROTOCOL', `${ctx.subject}: ${ctx.request}: token response is not JSON`, { cause: err });
  }
  const token = typeof parsed.token === 'string' && parsed.token !== '' ? parsed.token : parsed.access_token;
  if (typeof token !== 'string' || token === '') throw new LkvolError('LKVOL_REGISTRY_PROTOCOL', `${ctx.subject}: ${ctx.request}: token response has no token`);
  const lifetimeS = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : defaultTokenLifetimeS;
  return { token, expiresAt: Date.now() + Math.max(0, lifetimeS * 1000 - refreshMarginMs) };
}
