// One HTTP exchange over undici with retries (backoff, jitter, Retry-After) and no redirects.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { isAbortError } from '../errors.js';
import { networkError, type ExchangeContext } from './response.js';
import { isRetryableNetworkError, isRetryableStatus, parseRetryAfter, retryDelay, type RetryOptions } from './retry.js';

/** One HTTP exchange with retries but no redirects, supplied by the transport. */
export type Sender = (req: {
  method: 'GET' | 'HEAD' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  ctx: ExchangeContext;
  signal: AbortSignal | undefined;
  /** Errors that must not be retried here (the TLS probe of a loopback registry). */
  noRetry?: (err: unknown) => boolean;
}) => Promise<{ status: number; headers: IncomingHttpHeaders; body: Readable & { dump(): Promise<void> } }>;

/**
 * Creates the Sender: network errors and 408/429/5xx are retried up to `retry.attempts` tries; the
 * last retryable status is returned for the caller to map. Redirects are returned, never followed.
 * @throws LKVOL_REGISTRY_UNAVAILABLE for network errors, LKVOL_CANCELLED when the signal aborts.
 */
export function createSender(agent: Dispatcher, retry: RetryOptions, userAgent: string): Sender {
  return async (req) => {
    for (let attempt = 0; ; attempt++) {
      let res: Dispatcher.ResponseData;
      try {
        // Dispatcher.request, not undici's top-level request(): the bundle loads undici's dispatchers alone (Makefile).
        res = await agent.request({
          origin: req.url.origin,
          path: `${req.url.pathname}${req.url.search}`,
          method: req.method,
          headers: { 'user-agent': userAgent, ...req.headers },
          ...(req.body === undefined ? {} : { body: req.body }),
          signal: req.signal ?? null,
        });
      } catch (err) {
        const last =
          attempt + 1 >= retry.attempts ||
          isAbortError(err) ||
          req.noRetry?.(err) === true ||
          !isRetryableNetworkError(err);
        if (last) throw networkError(err, req.ctx, req.signal ?? null);
        await pause(retry, retryDelay(attempt, undefined, retry), req);
        continue;
      }
      if (!isRetryableStatus(res.statusCode) || attempt + 1 >= retry.attempts)
        return { status: res.statusCode, headers: res.headers, body: res.body };
      const after = parseRetryAfter(res.headers['retry-after']);
      await res.body.dump().catch(() => undefined);
      await pause(retry, retryDelay(attempt, after, retry), req);
    }
  };
}

async function pause(
  retry: RetryOptions,
  ms: number,
  req: { ctx: ExchangeContext; signal: AbortSignal | undefined },
): Promise<void> {
  try {
    await retry.sleep(ms, req.signal);
  } catch (err) {
    throw networkError(err, req.ctx);
  }
}
