// The undici dispatcher of one registry: TLS options, and an HTTP(S) proxy when the caller names one.
import { createSecureContext, type SecureContext } from 'node:tls';
import { Agent, EnvHttpProxyAgent, buildConnector, type Dispatcher } from 'undici';
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
 * TLS options go to `connect` (direct) and to `requestTls` (inside a CONNECT tunnel), as one
 * SecureContext: given `ca` itself, Node's `tls.connect` parses every certificate again for each
 * connection (~60 ms for Node's roots and a system bundle). A direct Agent makes that context at its
 * first TLS connection, so a registry spoken to over plain HTTP never loads its trust.
 */
export function createDispatcher(o: {
  tls: RegistryTls | undefined;
  insecure: boolean;
  proxy: ProxyOptions | undefined;
}): Dispatcher {
  const tls = o.tls ?? {};
  const rejectUnauthorized = !o.insecure;
  const common = { headersTimeout: 60_000 };
  if (!hasProxy(o.proxy)) return new Agent({ ...common, connect: lazyTlsConnector(tls, rejectUnauthorized) });
  const options = { ...secureContextOf(tls), rejectUnauthorized };
  return new EnvHttpProxyAgent({
    ...common,
    connect: options,
    requestTls: options,
    httpProxy: o.proxy.httpProxy ?? '',
    httpsProxy: o.proxy.httpsProxy ?? '',
    noProxy: o.proxy.noProxy ?? '',
  });
}

/** Plain sockets at once; TLS ones with the registry's SecureContext, made when the first is asked for. */
function lazyTlsConnector(tls: RegistryTls, rejectUnauthorized: boolean): buildConnector.connector {
  let plain: buildConnector.connector | undefined;
  let secure: buildConnector.connector | undefined;
  return (opts, callback) => {
    if (opts.protocol !== 'https:') return (plain ??= buildConnector({}))(opts, callback);
    secure ??= buildConnector({ ...secureContextOf(tls), rejectUnauthorized });
    return secure(opts, callback);
  };
}

/** One context per trust list: registries without certificates of their own share the list (see loadRegistryTls). */
const trustContexts = new WeakMap<readonly string[], SecureContext>();

/** The registry's trust and client certificate as one context; none (Node's default roots) when it has neither. */
function secureContextOf(tls: RegistryTls): { secureContext?: SecureContext } {
  const ca = tls.ca;
  if (tls.cert !== undefined) return { secureContext: contextOf(ca, { cert: tls.cert, key: tls.key }) };
  if (ca === undefined) return {};
  let context = trustContexts.get(ca);
  if (context === undefined) trustContexts.set(ca, (context = contextOf(ca, {})));
  return { secureContext: context };
}

/** A context trusting `ca` (Node's roots when undefined); OpenSSL skips a block it cannot read, as Node does. */
function contextOf(
  ca: readonly string[] | undefined,
  client: { cert?: string; key?: string | undefined },
): SecureContext {
  return createSecureContext({ ...(ca === undefined ? {} : { ca: [...ca] }), ...client });
}
