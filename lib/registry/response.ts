// Reads capped bodies and turns failed exchanges into RegistryErrors (ggcr transport/error.go).
import type { Readable } from 'node:stream';
import { RegistryError, isAbortError, describeCause, LkvolError, type ErrorCode } from '../errors.js';
import { describeRequest, redactUrl, sanitizeText } from './redact.js';
import { networkErrorCode } from './retry.js';

/** Body caps: manifests and configs 4 MiB (containers/image iolimits), token responses 1 MiB, error bodies 64 KiB. */
export const bodyLimits = { manifest: 4 << 20, config: 4 << 20, token: 1 << 20, error: 64 << 10 } as const;

/** Destroys a body we will not read; undici then emits an abort error nobody needs to see. */
export function discardBody(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** Where an exchange happened, for messages: `pull r/x:1` and `GET /v2/x/manifests/1`. */
export interface ExchangeContext {
  subject: string;
  method: string;
  /** Redacted URL of the request. */
  url: string;
  /** `METHOD path` (registry origin) or `METHOD redacted-url`. */
  request: string;
  registry: string;
}

/** The ExchangeContext of a request to `url`; paths are shown bare for the registry's own origin. */
export function contextFor(
  req: { subject: string; method: string },
  url: URL,
  d: { session?: { origin: string } | undefined; registry: string },
): ExchangeContext {
  return {
    subject: req.subject,
    method: req.method,
    url: redactUrl(url),
    request: describeRequest(req.method, url, d.session?.origin),
    registry: d.registry,
  };
}

/**
 * Reads a whole body, failing once it exceeds `limit` bytes (checked against `contentLength`, the
 * response's Content-Length, first).
 * @throws LKVOL_REGISTRY_PROTOCOL when too large; LKVOL_REGISTRY_UNAVAILABLE when the connection breaks.
 */
export async function readCapped(
  body: Readable,
  ctx: ExchangeContext,
  o: { limit: number; contentLength?: string | string[] | undefined },
): Promise<Buffer> {
  const { limit, contentLength } = o;
  const declared = Number(Array.isArray(contentLength) ? contentLength[0] : contentLength);
  const tooLarge = () =>
    new RegistryError(
      'LKVOL_REGISTRY_PROTOCOL',
      `${ctx.subject}: ${ctx.request}: response body exceeds ${limit} bytes`,
      { method: ctx.method, url: ctx.url },
    );
  if (Number.isFinite(declared) && declared > limit) {
    discardBody(body);
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      total += (chunk as Buffer).length;
      if (total > limit) {
        discardBody(body);
        throw tooLarge();
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw networkError(err, ctx);
  }
  return Buffer.concat(chunks);
}

/** The first `{errors:[{code,message}]}` entry of a distribution error body, if any. */
export function parseErrorBody(body: Buffer): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = parsed.errors?.[0];
    const out: { code?: string; message?: string } = {};
    if (typeof first?.code === 'string') out.code = sanitizeText(first.code, 64);
    if (typeof first?.message === 'string') out.message = sanitizeText(first.message);
    return out;
  } catch {
    return {};
  }
}

const notFoundCodes = new Set(['MANIFEST_UNKNOWN', 'NAME_UNKNOWN', 'BLOB_UNKNOWN']);

/**
 * Maps a non-2xx status to a RegistryError with code, hint and fields; `said` is what the response
 * said (its error body's code and message, see {@link parseErrorBody}) and a `note` for the end of the reason.
 */
export function statusError(
  status: number,
  ctx: ExchangeContext,
  said: { code?: string; message?: string; note?: string },
): RegistryError {
  const code = errorCodeFor(status, said.code);
  const reason = `${status} ${said.code ?? statusText(status)}${said.message === undefined ? '' : `: ${said.message}`}${said.note ?? ''}`;
  return new RegistryError(code, `${ctx.subject}: ${ctx.request}: ${reason}`, {
    status,
    method: ctx.method,
    url: ctx.url,
    temporary: code === 'LKVOL_REGISTRY_UNAVAILABLE',
    ...(said.code === undefined ? {} : { registryCode: said.code }),
    hint: hintFor(code, ctx.registry),
  });
}

function errorCodeFor(status: number, registryCode: string | undefined): ErrorCode {
  if (status === 401 || status === 403) return 'LKVOL_REGISTRY_AUTH';
  if (status === 404 || (registryCode !== undefined && notFoundCodes.has(registryCode)))
    return 'LKVOL_REGISTRY_NOT_FOUND';
  if (status === 408 || status === 429 || status >= 500) return 'LKVOL_REGISTRY_UNAVAILABLE';
  return 'LKVOL_REGISTRY_PROTOCOL';
}

function hintFor(code: ErrorCode, registry: string): string | undefined {
  switch (code) {
    case 'LKVOL_REGISTRY_AUTH':
      return `run "docker login ${registry}" or set DOCKER_CONFIG to a config.json with credentials for ${registry}`;
    case 'LKVOL_REGISTRY_NOT_FOUND':
      return 'check the repository name, tag and digest (and that you may see the repository)';
    case 'LKVOL_REGISTRY_UNAVAILABLE':
      return `${registry} is failing or rate limiting; retry later`;
    default:
      return undefined;
  }
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: 'BAD_REQUEST',
    401: 'UNAUTHORIZED',
    403: 'FORBIDDEN',
    404: 'NOT_FOUND',
    405: 'METHOD_NOT_ALLOWED',
    408: 'REQUEST_TIMEOUT',
    429: 'TOO_MANY_REQUESTS',
  };
  return texts[status] ?? (status >= 500 ? 'SERVER_ERROR' : 'UNEXPECTED_STATUS');
}

const certificateCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/**
 * Wraps a transport failure: cancellation stays LKVOL_CANCELLED, LkvolErrors pass, the rest is
 * LKVOL_REGISTRY_UNAVAILABLE. `signal` is the request's own signal when the caller knows it (null: it had
 * none): an abort while it is not aborted is undici giving up by itself — a proxy refusing the CONNECT
 * tunnel is reported as an AbortError — which is a failure of the way to the registry, not a cancellation.
 */
export function networkError(err: unknown, ctx: ExchangeContext, signal?: AbortSignal | null): LkvolError {
  if (err instanceof LkvolError) return err;
  if (isAbortError(err) && (signal === undefined || signal?.aborted === true))
    return new LkvolError('LKVOL_CANCELLED', `${ctx.subject}: ${ctx.request}: cancelled`, { cause: err });
  const cert = certificateCodes.has(networkErrorCode(err) ?? '');
  return new RegistryError(
    'LKVOL_REGISTRY_UNAVAILABLE',
    `${ctx.subject}: ${ctx.request}: ${cert ? `certificate of ${ctx.registry} does not verify: ` : ''}${describeCause(err)}`,
    {
      method: ctx.method,
      url: ctx.url,
      temporary: !cert,
      cause: err,
      hint: cert
        ? `trust its CA with --ca-cert FILE or certs.d/${ctx.registry}/ca.crt, or pass --insecure-registry ${ctx.registry}`
        : `check that ${ctx.registry} is reachable; retry later`,
    },
  );
}
