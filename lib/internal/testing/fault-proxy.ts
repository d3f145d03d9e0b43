// Test helper: an HTTP proxy on 127.0.0.1 in front of a real registry that injects faults per request.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { startHttpServer, type TestServer } from './registry.js';

/**
 * What to do with one request:
 * - `pass`: forward it (after `hold` settles), without the request headers in `drop`, overriding response
 *   headers with `set`; `onClose` is called once the response is sent or the connection is gone;
 * - `stall`: never answer; `status`: answer with a status, headers and body of our own;
 * - `reset` / `truncate`: forward, then after `after` body bytes reset the connection (RST) or close it (FIN);
 * - `redirect`: answer `status` (default 307) with `Location: location`.
 */
export type Fault =
  | { kind: 'pass'; drop?: string[]; set?: Record<string, string>; hold?: Promise<unknown>; onClose?: () => void }
  | { kind: 'stall' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string | Buffer }
  | { kind: 'reset'; after: number }
  | { kind: 'truncate'; after: number }
  | { kind: 'redirect'; location: string; status?: number };

/** One request the proxy saw. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface FaultProxy extends TestServer {
  /** `METHOD url` of every request, in arrival order. */
  seen: string[];
  /** Every request with its headers. */
  log: SeenRequest[];
}

/**
 * Starts the proxy; `decide` sees every request (method, path, headers) and picks its fate. `upstreamHeaders`
 * are added to forwarded requests.
 */
export async function startFaultProxy(
  upstream: string,
  decide: (req: IncomingMessage) => Fault,
  opts: { upstreamHeaders?: Record<string, string> } = {},
): Promise<FaultProxy> {
  const seen: string[] = [];
  const log: SeenRequest[] = [];
  const server = await startHttpServer((req, res) => {
    seen.push(`${req.method ?? 'GET'} ${req.url ?? ''}`);
    log.push({ method: req.method ?? 'GET', url: req.url ?? '', headers: req.headers });
    const fault = decide(req);
    if (fault.kind === 'pass' && fault.onClose !== undefined) res.once('close', fault.onClose);
    if (fault.kind === 'stall') return;
    if (fault.kind === 'status') {
      res.writeHead(fault.status, fault.headers ?? {}).end(fault.body);
      return;
    }
    if (fault.kind === 'redirect') {
      res.writeHead(fault.status ?? 307, { location: fault.location, 'content-length': '0' }).end();
      return;
    }
    forward({ upstream, extra: opts.upstreamHeaders ?? {} }, req, res, fault).catch(() => res.destroy());
  });
  return { ...server, seen, log };
}

/** Sends `req` on to `to.upstream` (with `to.extra` headers) and its answer back, as `fault` says. */
async function forward(
  to: { upstream: string; extra: Record<string, string> },
  req: IncomingMessage,
  res: ServerResponse,
  fault: Fault,
): Promise<void> {
  const { upstream, extra } = to;
  if (fault.kind === 'pass' && fault.hold !== undefined) await fault.hold;
  const drop = new Set(['host', 'connection', ...(fault.kind === 'pass' ? (fault.drop ?? []) : [])]);
  const headers: Record<string, string> = { ...extra };
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !drop.has(k)) headers[k] = v;
  const up = await fetch(`${upstream}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, redirect: 'manual' });
  const out: Record<string, string> = {};
  up.headers.forEach((v, k) => {
    if (k !== 'content-encoding' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v;
  });
  if (fault.kind === 'pass') Object.assign(out, fault.set ?? {});
  res.writeHead(up.status, out);
  const limit = fault.kind === 'reset' || fault.kind === 'truncate' ? fault.after : Infinity;
  let sent = 0;
  if (up.body !== null) {
    for await (const chunk of up.body as AsyncIterable<Uint8Array>) {
      const part = chunk.subarray(0, Math.max(0, limit - sent));
      sent += part.length;
      if (part.length > 0 && !res.write(part)) await new Promise((resolve) => res.once('drain', resolve));
      if (sent >= limit) break;
    }
  }
  if (sent < limit) return void res.end();
  // Cut the exchange short once the bytes are flushed: RST for `reset`, FIN for `truncate`.
  const socket = res.socket;
  if (socket === null) return;
  await new Promise<void>((resolve) => socket.write('', () => resolve()));
  if (fault.kind === 'reset') socket.resetAndDestroy();
  else socket.end();
}
