// Test helper: start any node:net-based server on 127.0.0.1 at a free port.
import type { Server as HttpServer } from 'node:http';
import type { Server } from 'node:net';

/** Listens on 127.0.0.1:0 and returns the port the kernel chose; `what` names the server in errors. */
export async function listenOnLoopback(server: Server, what: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`could not read the port of the ${what}`);
  return address.port;
}

/** Closes an HTTP(S) server, dropping its keep-alive connections, and resolves once it has closed. */
export function closeHttpServer(server: HttpServer): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}
