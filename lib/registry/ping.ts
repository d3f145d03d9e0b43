// The first exchange with a registry: GET /v2/ for its auth challenges, choosing https or (loopback/insecure) http.
import { LkvolError, internalError } from '../errors.js';
import type { Sender } from './send.js';
import { parseWwwAuthenticate, type Challenge } from './challenge.js';
import { bodyLimits, contextFor, parseErrorBody, readCapped, statusError } from './response.js';
import { networkErrorCode } from './retry.js';

/** What a ping takes of the request that needs it: messages name its subject; its signal cancels. */
export interface PingRequest {
  subject: string;
  signal?: AbortSignal | undefined;
}

/** What ping learnt: the origin that answered and the challenges it sent (none: anonymous). */
export interface Session {
  origin: string;
  challenges: Challenge[];
}

/**
 * GET /v2/ over https, falling back to http only when allowed and the server does not speak TLS.
 * Where http is allowed both are sent at once (a loopback registry answers in one round trip
 * instead of two); the https answer decides, and the http one is used only when https finds no TLS.
 * That first https attempt goes through `probe`, which trusts nothing and verifies nothing (a ping
 * carries no credentials), so a registry that speaks plain HTTP never makes lkvol load its trust
 * (Node's roots and any extra CAs: ~20–60 ms); whenever TLS is spoken, or the probe cannot tell, the
 * ping is asked again through `send`, verified, and its answer is the one that counts.
 * @throws LKVOL_REGISTRY_UNAVAILABLE, LKVOL_REGISTRY_PROTOCOL, LKVOL_CANCELLED.
 */
export async function ping(
  p: {
    apiHost: string;
    allowHttp: boolean;
    registry: string;
    send: Sender;
    probe?: Sender | undefined;
    endpoint?: string | undefined;
  },
  req: PingRequest,
): Promise<Session> {
  if (p.endpoint !== undefined) return pingEndpoint(p.endpoint, p, req);
  const https = `https://${p.apiHost}`;
  if (!p.allowHttp) return overTls(await pingAt(https, p, req));
  const abandon = new AbortController();
  const plain = pingAt(`http://${p.apiHost}`, p, { ...req, signal: withAbandon(req.signal, abandon.signal) });
  plain.catch(() => undefined); // awaited below, or abandoned once https has answered
  try {
    await pingAt(https, { ...p, send: p.probe ?? p.send }, req);
  } catch (err) {
    if (err instanceof LkvolError && isTlsNotSpoken(err.cause))
      return fallBackToPlain(plain, () => pingAt(https, p, req));
    if (!(err instanceof LkvolError) || err.code === 'LKVOL_CANCELLED' || isBeforeTls(err.cause)) {
      abandon.abort();
      throw err;
    }
  }
  abandon.abort();
  return overTls(await pingAt(https, p, req));
}

/**
 * The server does not seem to speak TLS: the plain ping's session. A TLS server that drops us (a client certificate
 * it wants, TLS 1.3 alerts) looks like "no TLS" too; if plain HTTP fails as well, or is answered by an HTTPS server,
 * the verified TLS attempt decides, and its error is the one that matters.
 */
async function fallBackToPlain(
  plain: Promise<Session | 'speaks-tls'>,
  verified: () => Promise<Session | 'speaks-tls'>,
): Promise<Session> {
  let session: Session | 'speaks-tls' | undefined;
  try {
    session = await plain;
  } catch (err) {
    if (err instanceof LkvolError && err.code === 'LKVOL_CANCELLED') throw err;
  }
  if (session !== undefined && session !== 'speaks-tls') return session;
  return overTls(await verified());
}

/** An https ping's session ("speaks TLS" is an answer only plain http can give). */
function overTls(session: Session | 'speaks-tls'): Session {
  if (session === 'speaks-tls') throw internalError('ping: https answered as plain http');
  return session;
}

const beforeTlsCodes = [
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
];

/** Errors met before any TLS byte: a verified attempt would meet them too. */
function isBeforeTls(err: unknown): boolean {
  const code = networkErrorCode(err);
  return code !== undefined && beforeTlsCodes.includes(code);
}

function withAbandon(signal: AbortSignal | undefined, abandon: AbortSignal): AbortSignal {
  return signal === undefined ? abandon : AbortSignal.any([signal, abandon]);
}

/** A mirror given as a URL is spoken to with exactly its scheme: no fallback either way. */
async function pingEndpoint(
  origin: string,
  p: { registry: string; send: Sender; allowHttp: boolean },
  req: PingRequest,
): Promise<Session> {
  const session = await pingAt(origin, { ...p, allowHttp: false }, req);
  if (session === 'speaks-tls')
    throw new LkvolError(
      'LKVOL_REGISTRY_PROTOCOL',
      `${req.subject}: ${origin} answers plain HTTP with "HTTPS server"`,
      { hint: `write the mirror as https://${new URL(origin).host}` },
    );
  return session;
}

async function pingAt(
  origin: string,
  p: { registry: string; send: Sender; allowHttp: boolean },
  req: PingRequest,
): Promise<Session | 'speaks-tls'> {
  const url = new URL('/v2/', origin);
  const ctx = contextFor({ subject: req.subject, method: 'GET' }, url, { session: { origin }, registry: p.registry });
  const noRetry = p.allowHttp && origin.startsWith('https:') ? isTlsNotSpoken : undefined;
  const res = await p.send({
    method: 'GET',
    url,
    headers: {},
    ctx,
    signal: req.signal,
    ...(noRetry === undefined ? {} : { noRetry }),
  });
  const bytes = await readCapped(res.body, ctx, {
    limit: bodyLimits.error,
    contentLength: res.headers['content-length'],
  });
  if (res.status === 200) return { origin, challenges: [] };
  if (res.status === 401) return { origin, challenges: parseWwwAuthenticate(res.headers['www-authenticate']) };
  // Go's and nginx's TLS servers answer plain HTTP with a 400 that says so.
  if (res.status === 400 && origin.startsWith('http:') && /https server|https port/i.test(bytes.toString('utf8')))
    return 'speaks-tls';
  throw statusError(res.status, ctx, parseErrorBody(bytes));
}

/** True for the errors a TLS client sees when the server speaks plain HTTP. */
export function isTlsNotSpoken(err: unknown): boolean {
  const code = networkErrorCode(err);
  const tlsCodes = [
    'ERR_SSL_WRONG_VERSION_NUMBER',
    'ERR_SSL_PACKET_LENGTH_TOO_LONG',
    'EPROTO',
    'ECONNRESET',
    'UND_ERR_SOCKET',
  ];
  if (code !== undefined && tlsCodes.includes(code)) return true;
  return (
    err instanceof Error && /wrong version number|packet length too long|http response|http request/i.test(err.message)
  );
}
