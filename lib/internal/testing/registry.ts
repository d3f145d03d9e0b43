// Test helper: a real distribution registry (Debian's docker-registry) on a free loopback port.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { closeHttpServer, listenOnLoopback } from './loopback.js';

const registryBinary = '/usr/bin/docker-registry';
const htpasswdBinary = '/usr/bin/htpasswd';
const startTimeoutMs = 15_000;
const pollIntervalMs = 50;

export interface TestRegistryOptions {
  /** Protect every repository with htpasswd (distribution then answers 401 with a Basic challenge). */
  htpasswd?: { user: string; password: string };
  /** A fixed port (e.g. for `make example`); default: a free one. */
  port?: number;
  /** Serve HTTPS with this certificate and key (paths); `clientCas` makes client certificates mandatory. */
  tls?: { cert: string; key: string; ca: string; clientCas?: string[] };
  /** Token auth (`auth.token`): the realm of a token issuer and the bundle whose certificates sign its JWTs. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Serve an existing storage root (another registry's `dataDir`) and leave it in place on stop. */
  storageDir?: string;
  /** Run as a pull-through cache of `remoteurl` (distribution's `proxy:` section); pushes are then refused. */
  pullThrough?: { remoteurl: string };
  /**
   * Accept manifests whose foreign (non-distributable) layers name http(s) `urls`, as Docker Hub does;
   * distribution refuses them by default.
   */
  allowForeignUrls?: boolean;
}

export interface TestRegistry {
  /** `127.0.0.1:PORT`, usable as the registry part of a reference. */
  host: string;
  /** `http://127.0.0.1:PORT`, or `https://…` with `tls`. */
  url: string;
  /** The registry's storage root (`docker/registry/v2/blobs/…`), for tests that corrupt stored blobs. */
  dataDir: string;
  /** Kills the process and removes its storage. */
  stop(): Promise<void>;
}

/**
 * Starts `/usr/bin/docker-registry serve` bound to 127.0.0.1 with filesystem storage in a temp dir and
 * waits until `GET /v2/` answers. Throws when the binary is missing (`make test` installs it).
 */
export async function startRegistry(opts: TestRegistryOptions = {}): Promise<TestRegistry> {
  if (!existsSync(registryBinary)) {
    throw new Error(
      `${registryBinary} not found: the registry integration tests need Debian's docker-registry package; run "make test", which installs it`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'lkvol-registry-'));
  try {
    const port = opts.port ?? (await freePort());
    const host = `127.0.0.1:${port}`;
    await writeConfig(dir, host, opts);
    const child = spawn(registryBinary, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr = collect(child);
    const stop = async () => {
      await killChild(child);
      await rm(dir, { recursive: true, force: true });
    };
    const url = `${opts.tls === undefined ? 'http' : 'https'}://${host}`;
    try {
      await waitReady(url, child, stderr, opts.tls);
    } catch (err) {
      await stop();
      throw err;
    }
    return { host, url, dataDir: opts.storageDir ?? join(dir, 'data'), stop };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function writeConfig(dir: string, host: string, opts: TestRegistryOptions): Promise<void> {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${opts.storageDir ?? join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
  ];
  if (opts.htpasswd !== undefined) {
    const file = join(dir, 'htpasswd');
    const { stdout } = await promisify(execFile)(htpasswdBinary, ['-Bbn', opts.htpasswd.user, opts.htpasswd.password]);
    await writeFile(file, stdout);
    lines.push('auth:', '  htpasswd:', '    realm: lkvol-test', `    path: ${file}`);
  }
  lines.push(...tlsAndTokenConfig(opts));
  if (opts.pullThrough !== undefined) lines.push('proxy:', `  remoteurl: ${opts.pullThrough.remoteurl}`);
  if (opts.allowForeignUrls === true)
    lines.push('validation:', '  manifests:', '    urls:', '      allow:', "        - '^https?://'");
  await writeFile(join(dir, 'config.yml'), lines.join('\n') + '\n');
}

function tlsAndTokenConfig(opts: TestRegistryOptions): string[] {
  const lines: string[] = [];
  if (opts.tls !== undefined) {
    // Indented under the `http:` block written just before.
    lines.push('  tls:', `    certificate: ${opts.tls.cert}`, `    key: ${opts.tls.key}`);
    if (opts.tls.clientCas !== undefined)
      lines.push('    clientcas:', ...opts.tls.clientCas.map((c) => `      - ${c}`));
  }
  if (opts.token !== undefined) {
    const t = opts.token;
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${t.realm}`,
      `    service: ${t.service}`,
      `    issuer: ${t.issuer}`,
      `    rootcertbundle: ${t.rootCertBundle}`,
    );
  }
  return lines;
}

/** A port that was free a moment ago: listen on 127.0.0.1:0, read it, close. */
async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenOnLoopback(server, 'loopback listener');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function collect(child: ChildProcess): () => string {
  let text = '';
  child.on('error', (err) => {
    text += `spawn failed: ${err.message}\n`;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    if (text.length < 16_384) text += chunk.toString('utf8');
  });
  return () => text;
}

async function waitReady(
  url: string,
  child: ChildProcess,
  stderr: () => string,
  tls: TestRegistryOptions['tls'],
): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `docker-registry exited (${child.exitCode ?? child.signalCode}) before answering: ${stderr().trim()}`,
      );
    }
    try {
      const status = tls === undefined ? await fetchStatus(`${url}/v2/`) : await httpsStatus(`${url}/v2/`, tls);
      if (status === 200 || status === 401) return;
    } catch {
      // Not listening yet; poll again.
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
  throw new Error(`docker-registry did not answer GET ${url}/v2/ within ${startTimeoutMs} ms: ${stderr().trim()}`);
}

async function fetchStatus(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.status;
}

/**
 * GET over HTTPS trusting the test CA (global fetch cannot take a CA). With client CAs the probe has no client
 * certificate, so a TLS alert also means "listening".
 */
function httpsStatus(url: string, tls: NonNullable<TestRegistryOptions['tls']>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { ca: readFileSync(tls.ca), timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: Error & { code?: string }) => {
      if (tls.clientCas !== undefined && /ALERT/.test(err.code ?? '')) resolve(401);
      else reject(err);
    });
  });
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

export interface TestServer {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1:0 for misbehaviour a real registry will not produce (tier A). */
export async function startHttpServer(handler: RequestListener): Promise<TestServer> {
  const server = createHttpServer(handler);
  const host = `127.0.0.1:${await listenOnLoopback(server, 'loopback listener')}`;
  return {
    host,
    origin: `http://${host}`,
    close: () => closeHttpServer(server),
  };
}

export type FakeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A fake registry: `/v2/` answered by `ping` (default 200), other paths by `routes` (else 404 NAME_UNKNOWN);
 * `seen` records requests.
 */
export async function startFakeRegistry(
  routes: Record<string, FakeHandler>,
  ping?: FakeHandler,
): Promise<TestServer & { seen: { path: string; authorization: string | undefined }[] }> {
  const seen: { path: string; authorization: string | undefined }[] = [];
  const server = await startHttpServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    if (path === '/v2/') return (ping ?? ((_q, s) => s.end('{}')))(req, res);
    const route = routes[path];
    if (route === undefined) return sendRegistryError(res, 404, 'NAME_UNKNOWN');
    route(req, res);
  });
  return { ...server, seen };
}

/** Answers with a distribution error body `{errors:[{code,message}]}` (and the headers set on `res` before). */
export function sendRegistryError(res: ServerResponse, status: number, code: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ code, message: code.toLowerCase().replace(/_/g, ' ') }] }));
}
