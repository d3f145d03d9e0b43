// Blob resume with Range against a real registry behind the fault proxy, and credentials on a cross-origin redirect.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, test } from 'node:test';
import { buffer as drain } from 'node:stream/consumers';
import { parseDigest } from '../digest/index.js';
import { startFaultProxy, type Fault, type FaultProxy } from '../internal/testing/fault-proxy.js';
import { pushBlob } from '../internal/testing/push.js';
import { recordingSleep, seededRandom } from '../internal/testing/sleep.js';
import { parseReference } from '../ref/index.js';
import { createRegistryClient, type RegistryClientOptions } from './client.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const auth = { user: 'puller', password: 'resume-secret' };
const suite = useRegistry({ name: 'resume' });
const secured = useRegistry({ name: 'resume-auth', registry: { htpasswd: auth } });
let proxy: FaultProxy;
let decide: (req: IncomingMessage) => Fault = () => ({ kind: 'pass' });
const random = seededRandom(20240611);
const blob = Buffer.from(Array.from({ length: 300_000 }, () => Math.floor(random() * 256)));
let descriptor: { mediaType: string; digest: ReturnType<typeof parseDigest>; size: number };
let blobPath: string;

suite.before(async () => {
  proxy = await startFaultProxy(suite.registry.url, (req) => decide(req));
  const digest = parseDigest(await pushBlob({ registry: suite.registry.host, repository: 'res/blob' }, blob));
  await pushBlob({ registry: secured.registry.host, repository: 'res/blob', auth }, blob);
  descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: blob.length };
  blobPath = `/v2/res/blob/blobs/${digest}`;
});

after(async () => {
  await proxy?.close();
});

function newClient(t: { after(fn: () => Promise<void>): void }, extra: RegistryClientOptions = {}) {
  const client = createRegistryClient({ retry: { baseDelayMs: 1, sleep: recordingSleep().sleep }, ...extra });
  t.after(() => client.close());
  return client;
}

/** The `range` header of each request for the blob, in order ('' for none). */
function rangesSince(start: number): string[] {
  return proxy.log
    .slice(start)
    .filter((r) => r.url === blobPath)
    .map((r) => String(r.headers.range ?? ''));
}

const offsets = [1, 2, 3].map(() => 1 + Math.floor(random() * (blob.length - 2)));
const resumeCases: { name: string; faults: Fault[]; ranges: (r: string[]) => boolean }[] = [
  ...offsets.map((k) => ({
    name: `a reset at byte ${k} (seeded) resumes from the bytes received`,
    faults: [{ kind: 'reset', after: k }] as Fault[],
    // NB: a reset may drop bytes the kernel had not handed over yet, so the resume starts at or before k.
    ranges: (r: string[]) =>
      r.length === 2 && r[0] === '' && (r[1] === '' || (/^bytes=\d+-$/.test(r[1]!) && Number(r[1]!.slice(6, -1)) <= k)),
  })),
  {
    name: 'a clean close at byte 1000 resumes at exactly 1000',
    faults: [{ kind: 'truncate', after: 1000 }],
    ranges: (r) => r.join() === ',bytes=1000-',
  },
  {
    name: 'two breaks resume twice',
    faults: [
      { kind: 'truncate', after: 1000 },
      { kind: 'truncate', after: 5000 },
    ],
    ranges: (r) => r.join() === ',bytes=1000-,bytes=6000-',
  },
];
for (const c of resumeCases) {
  test(`resume: ${c.name}`, async (t) => {
    const queue = [...c.faults];
    decide = (req) => (req.url === blobPath ? (queue.shift() ?? { kind: 'pass' }) : { kind: 'pass' });
    const start = proxy.log.length;
    const got = await drain(await newClient(t).openBlob(parseReference(`${proxy.host}/res/blob:1`), descriptor));
    assert.ok(got.equals(blob), 'the resumed blob differs');
    assert.ok(c.ranges(rangesSince(start)), `ranges: ${rangesSince(start).join(' | ')}`);
  });
}

const refusedCases: { name: string; second: Fault; error: RegExp; requests: number }[] = [
  {
    name: 'a server that ignores Range (200) is not spliced',
    second: { kind: 'pass', drop: ['range'] },
    error: /cannot resume at byte 1000: the server answered 200, not 206/,
    requests: 2,
  },
  {
    name: 'a 206 whose Content-Range starts elsewhere is not spliced',
    second: { kind: 'pass', set: { 'content-range': `bytes 999-299999/300000` } },
    error: /Content-Range "bytes 999-299999\/300000" is not bytes 1000-299999\/300000/,
    requests: 2,
  },
  {
    name: 'resumes are bounded (3), then the break is reported',
    second: { kind: 'truncate', after: 1000 },
    error: /GET \/v2\/res\/blob\/blobs\/sha256:[0-9a-f]{64}: .*other side closed/,
    requests: 4,
  },
];
for (const c of refusedCases) {
  test(`resume: ${c.name}`, async (t) => {
    let n = 0;
    decide = (req) =>
      req.url !== blobPath ? { kind: 'pass' } : n++ === 0 ? { kind: 'truncate', after: 1000 } : c.second;
    const start = proxy.log.length;
    const stream = await newClient(t).openBlob(parseReference(`${proxy.host}/res/blob:1`), descriptor);
    await assert.rejects(
      drain(stream),
      (e: Error & { code?: string; temporary?: boolean }) =>
        e.code === 'LKVOL_REGISTRY_UNAVAILABLE' && e.temporary === true && c.error.test(e.message),
    );
    assert.equal(rangesSince(start).length, c.requests);
  });
}

test('redirect: a blob redirected to another origin gets no Authorization there', async (t) => {
  const basic = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
  // The second origin stands for object storage with a pre-signed URL: it authorises upstream itself.
  const storage = await startFaultProxy(secured.registry.url, () => ({ kind: 'pass' }), {
    upstreamHeaders: { authorization: basic },
  });
  t.after(() => storage.close());
  const front = await startFaultProxy(secured.registry.url, (req) =>
    req.url === blobPath ? { kind: 'redirect', location: `${storage.origin}${blobPath}` } : { kind: 'pass' },
  );
  t.after(() => front.close());
  const client = newClient(t, { credentials: () => Promise.resolve({ username: auth.user, password: auth.password }) });
  const got = await drain(await client.openBlob(parseReference(`${front.host}/res/blob:1`), descriptor));
  assert.ok(got.equals(blob));
  assert.equal(front.log.find((r) => r.url === blobPath)?.headers.authorization, basic);
  const atStorage = storage.log.filter((r) => r.url === blobPath);
  assert.equal(atStorage.length, 1);
  assert.equal(atStorage[0]!.headers.authorization, undefined);
});
