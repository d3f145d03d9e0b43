// Test helper: an HTTP proxy on 127.0.0.1 in front of a real registry that injects faults per request.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { startHttpServer, type TestServer } from './registry.js';

/** What to do with one request: forward it, never answer it, or answer with a status of our own. */
export type Fault = { kind: 'pass' } | { kind: 'stall' } | { kind: 'status'; status: number; headers?: Record<string, string> };

/** Starts the proxy; `decide` sees every request (method and path) and picks its fate. */
export async function startFaultProxy(upstream: string, decide: (req: IncomingMessage) => Fault): Promise<TestServer & { seen: string[] }> {
  const seen: string[] = [];
  const server = await startHttpServer((req, res) => {
    seen.push(`${req.method ?? 'GET'} ${req.url ?? ''}`);
    const fault = decide(req);
    if (fault.kind === 'stall') return;
    if (fault.kind === 'status') {
      res.writeHead(fault.status, fault.headers ?? {}).end();
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
    fetch(`${upstream}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, redirect: 'manual' })
      .then((up) => {
        const out: Record<string, string> = {};
        up.headers.forEach((v, k) => {
          if (k !== 'content-encoding' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v;
        });
        res.writeHead(up.status, out);
        if (up.body === null) res.end();
        else Readable.fromWeb(up.body as import('node:stream/web').ReadableStream).pipe(res);
      })
      .catch(() => res.destroy());
  });
  return { ...server, seen };
}
