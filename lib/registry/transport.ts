// The registry transport: ping and scheme choice, auth handshake, retries and manual redirects over undici.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { RegistryError } from '../errors.js';
import { dockerHub, dockerHubApiHost, isLoopbackRegistry } from '../ref/index.js';
import { createAuthorizer, type Authorizer } from './auth.js';
import { parseWwwAuthenticate } from './challenge.js';
import type { Credentials } from './auth-file.js';
import { createDispatcher, type ProxyOptions } from './dispatcher.js';
import { redactUrl } from './redact.js';
import { ping, type Session } from './ping.js';
import { bodyLimits, contextFor, parseErrorBody, readCapped, statusError, type ExchangeContext } from './response.js';
import { makeRetryOptions, type RetryOptions } from './retry.js';
import { createSender, type Sender } from './send.js';
import type { RegistryTls } from './tls.js';

export interface TransportOptions {
  /** Registry host as in the reference (`docker.io` is spoken to at `registry-1.docker.io`). */
  registry: string;
  credentials?: Credentials | undefined;
  /** `--insecure-registry`: skip certificate verification and allow plain HTTP. */
  insecure?: boolean | undefined;
  /** CAs to trust and a client certificate (see `loadRegistryTls`); default: Node's roots. */
  tls?: RegistryTls | undefined;
  retry?: Partial<RetryOptions> | undefined;
  userAgent?: string | undefined;
  /** Speak to this base URL (`http://127.0.0.1:5001`, a mirror) instead of the registry; its scheme is used as given. */
  endpoint?: string | undefined;
  /** HTTP(S) proxies; default: none (lib never reads the environment). */
  proxy?: ProxyOptions | undefined;
}

/** One request to the registry API. */
export interface RegistryRequest {
  method: 'GET' | 'HEAD';
  /** `/v2/<repository>/manifests/<reference>` etc. */
  path: string;
  /** `repository:<name>:pull`. */
  scope: string;
  accept?: readonly string[] | undefined;
  /** Further headers (`range`); they follow redirects, unlike `Authorization`. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** What is being done, for messages: `pull 127.0.0.1:5000/x/y:1`. */
  subject: string;
  signal?: AbortSignal | undefined;
}

/** A 2xx response whose body the caller must consume or dump. */
export interface RegistryResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Dispatcher.ResponseData['body'];
  ctx: ExchangeContext;
}

/** An authenticated, retrying connection to one registry. */
export interface Transport {
  readonly registry: string;
  /**
   * Sends the request, following redirects (Authorization only to the registry origin).
   * @throws LKVOL_REGISTRY_AUTH, LKVOL_REGISTRY_NOT_FOUND, LKVOL_REGISTRY_UNAVAILABLE, LKVOL_REGISTRY_PROTOCOL,
   * LKVOL_CANCELLED.
   */
  request(req: RegistryRequest): Promise<RegistryResponse>;
  close(): Promise<void>;
}

const maxRedirects = 5;

/** Creates a Transport for one registry; call `close()` when done. */
export function createTransport(opts: TransportOptions): Transport {
  const retry = makeRetryOptions(opts.retry);
  const insecure = opts.insecure === true;
  const endpoint = opts.endpoint === undefined ? undefined : new URL(opts.endpoint).origin;
  const allowHttp = insecure || isLoopbackRegistry(opts.registry) || endpoint?.startsWith('http:') === true;
  const apiHost = opts.registry === dockerHub ? dockerHubApiHost : opts.registry;
  const agent = createDispatcher({ tls: opts.tls, insecure, proxy: opts.proxy });
  // Asks whether a registry that may speak plain HTTP speaks TLS at all, trusting nothing (see ping).
  const probeAgent = allowHttp ? createDispatcher({ tls: { ca: [] }, insecure: true, proxy: opts.proxy }) : undefined;
  const userAgent = opts.userAgent ?? 'lkvol';
  const send = createSender(agent, retry, userAgent);
  const probe = probeAgent === undefined ? undefined : createSender(probeAgent, retry, userAgent);
  const authorizer = createAuthorizer({ registry: opts.registry, credentials: opts.credentials, insecure, send });
  let session: Promise<Session> | undefined;

  const getSession = async (req: RegistryRequest): Promise<Session> => {
    session ??= ping({ apiHost, allowHttp, registry: opts.registry, send, probe, endpoint }, req);
    try {
      return await session;
    } catch (err) {
      session = undefined;
      throw err;
    }
  };

  return {
    registry: opts.registry,
    async request(req) {
      const s = await getSession(req);
      return authorizedRequest({ session: s, authorizer, send, registry: opts.registry, allowHttp }, req).catch(
        (err: unknown) => {
          throw explainRefusal(err, opts.registry, opts.credentials);
        },
      );
    },
    close: async () => {
      await Promise.all([agent.close(), probeAgent?.close()]);
    },
  };
}

/**
 * A 401/403 says whose credentials were refused (the file entry or helper they came from), or that
 * none were found, so "log in" is not the answer when the login itself is what was rejected.
 */
function explainRefusal(err: unknown, registry: string, credentials: Credentials | undefined): unknown {
  if (
    !(err instanceof RegistryError) ||
    err.code !== 'LKVOL_REGISTRY_AUTH' ||
    (err.status !== 401 && err.status !== 403)
  )
    return err;
  if (credentials === undefined)
    return err.explained({
      message: `${err.message}; no credentials for ${registry} were found`,
      hint: err.hint ?? '',
    });
  const from = credentials.origin ?? 'the credentials given';
  return err.explained({
    message: `${err.message}; the credentials for ${registry} from ${from} were rejected`,
    hint: `check the user and password (or token) in ${from}, or log in again: docker login ${registry}`,
  });
}

type Deps = { session: Session; authorizer: Authorizer; send: Sender; registry: string; allowHttp: boolean };

async function authorizedRequest(d: Deps, req: RegistryRequest): Promise<RegistryResponse> {
  const opts = { subject: req.subject, signal: req.signal, registryOrigin: d.session.origin };
  const auth = await d.authorizer.authorize(d.session.challenges, req.scope, { ...opts, fresh: false });
  let res = await follow(d, req, auth);
  if (res.status === 401) {
    // A 401 after ping: the token expired, the scope grew, or /v2/ was public. Re-authorise once.
    const challenges = parseWwwAuthenticate(res.headers['www-authenticate']);
    const body = await readErrorBody(res, req);
    const next =
      challenges.length === 0
        ? undefined
        : await d.authorizer.authorize(challenges, req.scope, { ...opts, fresh: true });
    if (next === undefined || next === auth) throw statusError(res.status, res.ctx, parseErrorBody(body));
    d.session.challenges = challenges;
    res = await follow(d, req, next);
  }
  if (res.status >= 200 && res.status < 300) return res;
  const said = parseErrorBody(await readErrorBody(res, req));
  throw statusError(res.status, res.ctx, { ...said, note: rateLimitNote(res.headers) });
}

/** The capped error body; HEAD responses have none. A broken error body is not worth a second error. */
async function readErrorBody(res: RegistryResponse, req: RegistryRequest): Promise<Buffer> {
  if (req.method === 'HEAD') {
    await res.body.dump().catch(() => undefined);
    return Buffer.alloc(0);
  }
  return readCapped(res.body, res.ctx, { limit: bodyLimits.error }).catch(() => Buffer.alloc(0));
}

async function follow(d: Deps, req: RegistryRequest, auth: string | undefined): Promise<RegistryResponse> {
  let url = new URL(req.path, d.session.origin);
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = {};
    if (req.accept !== undefined) headers.accept = req.accept.join(', ');
    Object.assign(headers, req.headers);
    // Credentials go only to the registry's own origin (distribution-spec; CVE-2020-15157).
    if (auth !== undefined && url.origin === d.session.origin) headers.authorization = auth;
    const ctx = contextFor(req, url, d);
    const res = await d.send({ method: req.method, url, headers, ctx, signal: req.signal });
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(res.status) || typeof location !== 'string')
      return { ...res, ctx } as RegistryResponse;
    await res.body.dump();
    if (hop >= maxRedirects)
      throw new RegistryError(
        'LKVOL_REGISTRY_PROTOCOL',
        `${req.subject}: ${ctx.request}: more than ${maxRedirects} redirects`,
        { method: ctx.method, url: ctx.url },
      );
    url = new URL(location, url);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && d.allowHttp)) {
      throw new RegistryError(
        'LKVOL_REGISTRY_PROTOCOL',
        `${req.subject}: ${ctx.request}: refusing redirect to ${redactUrl(url)}`,
        { method: ctx.method, url: ctx.url },
      );
    }
  }
}

function rateLimitNote(headers: IncomingHttpHeaders): string {
  const remaining = headers['ratelimit-remaining'];
  return typeof remaining === 'string' ? ` (ratelimit-remaining: ${remaining.slice(0, 40)})` : '';
}
