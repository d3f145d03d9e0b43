// Retry policy: which failures are temporary, how long to wait (backoff, jitter, Retry-After).
import { setTimeout as delay } from 'node:timers/promises';

/** How the transport retries temporary failures. Tests inject `sleep` and small delays. */
export interface RetryOptions {
  /** Total tries of one request, the first included. */
  attempts: number;
  /** Delay before the first retry; doubled for each further one. */
  baseDelayMs: number;
  /** Cap on a backoff delay. */
  maxDelayMs: number;
  /** Cap on a delay asked for by `Retry-After`. */
  maxRetryAfterMs: number;
  /** Fraction of random extra delay added to a backoff delay (0.2 = up to +20 %). */
  jitter: number;
  /** Source of randomness for the jitter, in [0, 1). */
  random: () => number;
  /** Waits `ms` or rejects when `signal` aborts. */
  sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

/** The defaults: 4 tries, 500 ms doubling to at most 10 s, +20 % jitter, Retry-After capped at 60 s. */
export const defaultRetryOptions: RetryOptions = {
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
  jitter: 0.2,
  random: Math.random,
  sleep: (ms, signal) => delay(ms, undefined, signal === undefined ? {} : { signal }),
};

/** Fills in defaults, in one place. */
export function makeRetryOptions(partial: Partial<RetryOptions> = {}): RetryOptions {
  return { ...defaultRetryOptions, ...partial };
}

/** Statuses worth another try: request timeout, too many requests and the transient 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

const retryableCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The errno-style code of a network error, looking inside AggregateError (happy eyeballs). */
export function networkErrorCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (err instanceof AggregateError) return networkErrorCode(err.errors[0]);
  return networkErrorCode(err.cause);
}

/** True for connection-level failures that another try may fix. */
export function isRetryableNetworkError(err: unknown): boolean {
  const code = networkErrorCode(err);
  return code !== undefined && retryableCodes.has(code);
}

/**
 * Milliseconds asked for by a `Retry-After` value: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unparseable; never negative.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP date always names a weekday or month; this keeps Date.parse from reading "-5" as a year.
  if (!/[a-z]{3}/i.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait before retry number `retry` (0-based): Retry-After when given (capped), else backoff with jitter. */
export function retryDelay(retry: number, retryAfterMs: number | undefined, opts: RetryOptions): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, opts.maxRetryAfterMs);
  const backoff = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** retry);
  return Math.round(backoff * (1 + opts.jitter * opts.random()));
}
