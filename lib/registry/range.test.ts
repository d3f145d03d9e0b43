// checkBlobResponse: which first responses and which resume responses may have their bytes used.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBlobResponse } from './range.js';
import type { RegistryResponse } from './transport.js';

const ctx = { subject: 's', method: 'GET', url: 'http://r/v2/x/blobs/d', request: 'GET /v2/x/blobs/d', registry: 'r' };
const res = (status: number, headers: Record<string, string>) =>
  ({ status, headers, body: undefined, ctx }) as unknown as RegistryResponse;

const cases: {
  name: string;
  offset: number;
  status: number;
  headers: Record<string, string>;
  error?: RegExp;
  code?: string;
}[] = [
  { name: 'a 200 of the whole blob', offset: 0, status: 200, headers: { 'content-length': '100' } },
  { name: 'a 200 without Content-Length (chunked)', offset: 0, status: 200, headers: {} },
  {
    name: 'a first Content-Length other than the size',
    offset: 0,
    status: 200,
    headers: { 'content-length': '99' },
    code: 'LKVOL_DIGEST_MISMATCH',
    error: /size mismatch after 0 bytes: expected 100 bytes, got Content-Length 99/,
  },
  {
    name: 'a 206 continuing at the offset',
    offset: 40,
    status: 206,
    headers: { 'content-range': 'bytes 40-99/100', 'content-length': '60' },
  },
  { name: 'a 206 with an unknown total', offset: 40, status: 206, headers: { 'content-range': 'bytes 40-99/*' } },
  {
    name: 'a 200 to a Range request',
    offset: 40,
    status: 200,
    headers: { 'content-length': '100' },
    code: 'LKVOL_REGISTRY_UNAVAILABLE',
    error: /cannot resume at byte 40: the server answered 200, not 206/,
  },
  {
    name: 'a 206 starting elsewhere',
    offset: 40,
    status: 206,
    headers: { 'content-range': 'bytes 41-99/100' },
    code: 'LKVOL_REGISTRY_UNAVAILABLE',
    error: /Content-Range "bytes 41-99\/100" is not bytes 40-99\/100/,
  },
  {
    name: 'a 206 that stops short of the end',
    offset: 40,
    status: 206,
    headers: { 'content-range': 'bytes 40-89/100' },
    code: 'LKVOL_REGISTRY_UNAVAILABLE',
    error: /is not bytes 40-99\/100/,
  },
  {
    name: 'a 206 of a blob of another size',
    offset: 40,
    status: 206,
    headers: { 'content-range': 'bytes 40-99/101' },
    code: 'LKVOL_REGISTRY_UNAVAILABLE',
    error: /is not bytes 40-99\/100/,
  },
  {
    name: 'a 206 without Content-Range',
    offset: 40,
    status: 206,
    headers: {},
    code: 'LKVOL_REGISTRY_UNAVAILABLE',
    error: /Content-Range "" is not/,
  },
  {
    name: 'a 206 whose Content-Length disagrees',
    offset: 40,
    status: 206,
    headers: { 'content-range': 'bytes 40-99/100', 'content-length': '61' },
    code: 'LKVOL_REGISTRY_UNAVAILABLE',
    error: /Content-Length 61 is not 60/,
  },
];
for (const c of cases) {
  test(`checkBlobResponse: ${c.name}${c.error === undefined ? ' is used' : ' is refused'}`, () => {
    const check = () => checkBlobResponse(res(c.status, c.headers), { offset: c.offset, size: 100, subject: 's' });
    if (c.error === undefined) return void check();
    assert.throws(check, (e: Error & { code?: string }) => e.code === c.code && c.error!.test(e.message));
  });
}
