// Table tests for Retry-After parsing, backoff delays and which failures are retried.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRetryableNetworkError, isRetryableStatus, makeRetryOptions, parseRetryAfter, retryDelay } from './retry.js';

const now = Date.parse('2026-01-01T00:00:00Z');
const retryAfterCases = [
  { name: 'delta seconds', input: '120', want: 120_000 },
  { name: 'zero seconds', input: '0', want: 0 },
  { name: 'surrounding space is ignored', input: ' 3 ', want: 3000 },
  { name: 'an HTTP date in the future', input: 'Thu, 01 Jan 2026 00:00:30 GMT', want: 30_000 },
  { name: 'an HTTP date in the past is zero', input: 'Wed, 31 Dec 2025 23:59:00 GMT', want: 0 },
  { name: 'absent', input: undefined, want: undefined },
  { name: 'empty', input: '', want: undefined },
  { name: 'negative seconds are not a delay', input: '-5', want: undefined },
  { name: 'garbage', input: 'soon', want: undefined },
  { name: 'the first of repeated headers wins', input: ['7', '9'], want: 7000 },
];
for (const c of retryAfterCases) {
  test(`parseRetryAfter: ${c.name}`, () => {
    assert.equal(parseRetryAfter(c.input, now), c.want);
  });
}

const fixed = makeRetryOptions({
  baseDelayMs: 100,
  maxDelayMs: 1000,
  maxRetryAfterMs: 5000,
  jitter: 0.5,
  random: () => 0.5,
});
const delayCases = [
  { name: 'first retry waits the base delay plus jitter', retry: 0, after: undefined, want: 125 },
  { name: 'delays double', retry: 2, after: undefined, want: 500 },
  { name: 'backoff is capped before jitter', retry: 10, after: undefined, want: 1250 },
  { name: 'Retry-After wins over backoff', retry: 0, after: 2000, want: 2000 },
  { name: 'Retry-After is capped', retry: 0, after: 3_600_000, want: 5000 },
];
for (const c of delayCases) {
  test(`retryDelay: ${c.name}`, () => {
    assert.equal(retryDelay(c.retry, c.after, fixed), c.want);
  });
}

const statusCases = [
  { status: 408, want: true },
  { status: 429, want: true },
  { status: 500, want: true },
  { status: 502, want: true },
  { status: 503, want: true },
  { status: 504, want: true },
  { status: 401, want: false },
  { status: 403, want: false },
  { status: 404, want: false },
  { status: 501, want: false },
];
for (const c of statusCases) {
  test(`isRetryableStatus: ${c.status} → ${c.want}`, () => {
    assert.equal(isRetryableStatus(c.status), c.want);
  });
}

const errorCases = [
  { name: 'connection reset', err: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), want: true },
  {
    name: 'undici socket closed',
    err: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    want: true,
  },
  {
    name: 'refused inside an AggregateError',
    err: new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]),
    want: true,
  },
  {
    name: 'unknown host is not retried',
    err: Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }),
    want: false,
  },
  {
    name: 'a certificate error is not retried',
    err: Object.assign(new Error('self-signed'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
    want: false,
  },
  { name: 'a plain error is not retried', err: new Error('boom'), want: false },
];
for (const c of errorCases) {
  test(`isRetryableNetworkError: ${c.name}`, () => {
    assert.equal(isRetryableNetworkError(c.err), c.want);
  });
}
