// Test helper: a forward HTTP proxy on 127.0.0.1 (CONNECT tunnels and absolute-form requests) that logs what it relays.
import { createServer, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { listenOnLoopback } from './loopback.js';

export interface TestProxy {
  /** `http://127.0.0.1:PORT`, for HTTP_PROXY / HTTPS_PROXY. */
  url: string;
  /** `CONNECT host:port` or `METHOD absolute-url`, in arrival order. */
  requests: string[];
  close(): Promise<void>;
}

/** Starts the proxy; it only relays to 127.0.0.0/8 so a test can never reach out. */
export async function startHttpProxy(): Promise<TestProxy> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push(`${req.method ?? 'GET'} ${req.url ?? ''}`);
    const target = new URL(req.url ?? '');
    if (!target.hostname.startsWith('127.')) return void res.writeHead(403).end();
    const up = request(target, { method: req.method ?? 'GET', headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    requests.push(`CONNECT ${req.url ?? ''}`);
    const [host, port] = (req.url ?? '').split(':');
    if (host === undefined || !host.startsWith('127.')) return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    const up = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(client).pipe(up);
    });
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  const port = await listenOnLoopback(server, 'proxy');
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
