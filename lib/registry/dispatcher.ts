// The undici dispatcher of one registry: TLS options, and an HTTP(S) proxy when the caller names one.
import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import type { RegistryTls } from './tls.js';

/** Proxies as `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` give them; the CLI reads the environment, lib never does. */
export interface ProxyOptions {
  /** Proxy URL for `http:` registries (`http://proxy:3128`). */
  httpProxy?: string | undefined;
  /** Proxy URL for `https:` registries (tunnelled with CONNECT). */
  httpsProxy?: string | undefined;
  /** Comma- or space-separated hosts (`host`, `host:port`, `.domain`, `*`) reached directly. */
  noProxy?: string | undefined;
}

/** True when at least one proxy URL is set. */
export function hasProxy(p: ProxyOptions | undefined): p is ProxyOptions {
  return (p?.httpProxy ?? '') !== '' || (p?.httpsProxy ?? '') !== '';
}

/**
 * An Agent, or undici's EnvHttpProxyAgent with explicit values. Every value is passed (empty when
 * unset) because EnvHttpProxyAgent reads `process.env` for any option left undefined. The registry's
 * TLS options go to `connect` (direct) and to `requestTls` (inside a CONNECT tunnel).
 */
export function createDispatcher(o: {
  tls: RegistryTls | undefined;
  insecure: boolean;
  proxy: ProxyOptions | undefined;
}): Dispatcher {
  const tls = { ...definedOnly(o.tls ?? {}), rejectUnauthorized: !o.insecure };
  const common = { headersTimeout: 60_000 };
  if (!hasProxy(o.proxy)) return new Agent({ ...common, connect: tls });
  return new EnvHttpProxyAgent({
    ...common,
    connect: tls,
    requestTls: tls,
    httpProxy: o.proxy.httpProxy ?? '',
    httpsProxy: o.proxy.httpsProxy ?? '',
    noProxy: o.proxy.noProxy ?? '',
  });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
