// Test helper: a Docker token service on 127.0.0.1 issuing ES256 JWTs that distribution 2.8 verifies.
import { createHash, createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSigned } from './tls.js';
import { closeHttpServer, listenOnLoopback } from './loopback.js';

/** One resource of a token request: `repository:x/y:pull`. */
export interface RequestedScope {
  type: string;
  name: string;
  actions: string[];
}

/** What the issuer saw; tests assert on these (user names only, never secrets). */
export interface IssuedRequest {
  method: 'GET' | 'POST';
  user: string | undefined;
  scopes: string[];
  status: number;
}

export interface TokenIssuerOptions {
  /** Accepted Basic credentials (user → password). */
  users?: Record<string, string>;
  /** Accepted identity (refresh) tokens → user; `POST grant_type=refresh_token` answers 404 when absent. */
  refreshTokens?: Record<string, string>;
  /** How the JWT names its key: `x5c` (certificate chain, default) or `kid` (libtrust key ID of a bundle key). */
  keyRef?: 'x5c' | 'kid';
  /** `expires_in` of responses (default 300). */
  expiresIn?: number;
  /** The `exp` claim of the next token, in seconds since the epoch; default now + 300. */
  exp?: () => number;
  /** Actions granted for a scope; default: what was asked for known users, nothing for anonymous. */
  grant?: (user: string | undefined, scope: RequestedScope) => string[];
  /** Serve the realm over HTTPS with this pair (paths and PEM). */
  tls?: { certPem: string; keyPem: string };
}

export interface TokenIssuer {
  /** `http(s)://127.0.0.1:PORT/token`. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM bundle for the registry's `rootcertbundle`. */
  rootCertBundle: string;
  requests: IssuedRequest[];
  close(): Promise<void>;
}

/** Starts the issuer on 127.0.0.1:0 with a fresh P-256 signing key and self-signed certificate. */
export async function startTokenIssuer(opts: TokenIssuerOptions = {}): Promise<TokenIssuer> {
  const dir = await mkdtemp(join(tmpdir(), 'lkvol-token-'));
  const signing = await createSelfSigned(dir, 'signing', { commonName: 'lkvol token signer' });
  const state = {
    opts,
    service: 'lkvol-test-registry',
    issuer: 'lkvol-test-issuer',
    key: signing.keyPem,
    header: jwtHeader(signing.certPem, opts.keyRef ?? 'x5c'),
    requests: [] as IssuedRequest[],
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => void handle(state, req, res);
  const server =
    opts.tls === undefined
      ? createHttpServer(handler)
      : createHttpsServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, handler);
  const port = await listenOnLoopback(server, 'token issuer');
  return {
    realm: `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}/token`,
    service: state.service,
    issuer: state.issuer,
    rootCertBundle: signing.cert,
    requests: state.requests,
    close: async () => {
      await closeHttpServer(server);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

type State = {
  opts: TokenIssuerOptions;
  service: string;
  issuer: string;
  key: string;
  header: string;
  requests: IssuedRequest[];
};

async function handle(s: State, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const method = req.method === 'POST' ? 'POST' : 'GET';
  const form = method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
  const who = method === 'POST' ? refreshUser(s, form) : basicUser(s, req.headers.authorization);
  const scopes =
    method === 'POST' ? (form.get('scope') ?? '').split(' ').filter(Boolean) : url.searchParams.getAll('scope');
  const reply = (status: number, body: unknown) => {
    s.requests.push({ method, user: typeof who === 'string' ? who : undefined, scopes, status });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname !== '/token' || who === 'no-refresh') return reply(404, { error: 'not found' });
  if (who === 'denied') return reply(401, { error: 'invalid credentials' });
  const token = issue(s, who, scopes.map(parseScope));
  const field = method === 'POST' ? 'access_token' : 'token';
  reply(200, { [field]: token, expires_in: s.opts.expiresIn ?? 300, issued_at: new Date().toISOString() });
}

function issue(s: State, user: string | undefined, scopes: RequestedScope[]): string {
  const now = Math.floor(Date.now() / 1000);
  const grant = s.opts.grant ?? ((u, scope) => (u === undefined ? [] : scope.actions));
  const access = scopes
    .map((scope) => ({ type: scope.type, name: scope.name, actions: grant(user, scope) }))
    .filter((a) => a.actions.length > 0);
  const exp = s.opts.exp?.() ?? now + 300;
  const claims = {
    iss: s.issuer,
    sub: user ?? '',
    aud: s.service,
    exp,
    nbf: now - 5,
    iat: now,
    jti: randomUUID(),
    access,
  };
  const input = `${s.header}.${b64url(JSON.stringify(claims))}`;
  // JWS ES256 wants r||s (IEEE P1363), not DER.
  const signature = sign('sha256', Buffer.from(input), { key: createPrivateKey(s.key), dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

function jwtHeader(certPem: string, keyRef: 'x5c' | 'kid'): string {
  const cert = new X509Certificate(certPem);
  const ref = keyRef === 'x5c' ? { x5c: [cert.raw.toString('base64')] } : { kid: libtrustKeyId(cert) };
  return b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', ...ref }));
}

/** libtrust `keyIDFromCryptoKey`: base32 of the first 240 bits of sha256(DER SPKI), in groups of 4 joined by `:`. */
function libtrustKeyId(cert: X509Certificate): string {
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  const bytes = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  const chars = bits
    .match(/.{5}/g)!
    .map((five) => alphabet[parseInt(five, 2)])
    .join('');
  return chars.match(/.{4}/g)!.join(':');
}

function basicUser(s: State, header: string | undefined): string | undefined | 'denied' {
  if (header === undefined) return undefined;
  const decoded = Buffer.from(header.replace(/^Basic /i, ''), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  return colon > 0 && s.opts.users?.[user] === decoded.slice(colon + 1) ? user : 'denied';
}

function refreshUser(s: State, form: URLSearchParams): string | 'denied' | 'no-refresh' {
  if (s.opts.refreshTokens === undefined) return 'no-refresh';
  if (form.get('grant_type') !== 'refresh_token' || form.get('service') !== s.service) return 'denied';
  return s.opts.refreshTokens[form.get('refresh_token') ?? ''] ?? 'denied';
}

function parseScope(scope: string): RequestedScope {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',') };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}
