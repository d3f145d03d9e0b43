// Tier A: bodies a real registry will not send — truncated, wrong length, wrong bytes, oversized.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { buffer as drain } from 'node:stream/consumers';
import { digestOf } from '../digest/index.js';
import { startFakeRegistry, type FakeHandler } from '../internal/testing/registry.js';
import { mediaTypes } from '../oci/index.js';
import { parseReference } from '../ref/index.js';
import { createRegistryClient } from './client.js';

const blob = Buffer.from('the quick brown fox jumps over the lazy dog');
const digest = digestOf(blob);
const descriptor = { mediaType: mediaTypes.ociLayerGzip, digest, size: blob.length };
const blobPath = `/v2/x/y/blobs/${digest}`;

async function setup(t: { after(fn: () => Promise<void>): void }, routes: Record<string, FakeHandler>) {
  const server = await startFakeRegistry(routes);
  const client = createRegistryClient({ retry: { sleep: () => Promise.resolve() } });
  t.after(async () => {
    await client.close();
    await server.close();
  });
  return { client, ref: parseReference(`${server.host}/x/y:1`) };
}

function sendBody(res: ServerResponse, body: Buffer, length = body.length): void {
  res.writeHead(200, { 'content-length': length });
  res.end(body);
}

test('openBlob: correct bytes stream through unchanged', async (t) => {
  const { client, ref } = await setup(t, { [blobPath]: (_req, res) => sendBody(res, blob) });
  assert.deepEqual(await drain(await client.openBlob(ref, descriptor)), blob);
});

test('openBlob: wrong bytes of the right length fail at EOF with a digest mismatch', async (t) => {
  const evil = Buffer.from(blob.toString().toUpperCase());
  const { client, ref } = await setup(t, { [blobPath]: (_req, res) => sendBody(res, evil) });
  await assert.rejects(
    drain(await client.openBlob(ref, descriptor, { subject: 'layer 1' })),
    (err: Error & { code?: string; bytesRead?: number; actual?: string }) => {
      assert.equal(err.code, 'LKVOL_DIGEST_MISMATCH');
      assert.equal(err.bytesRead, blob.length);
      assert.equal(err.actual, digestOf(evil));
      assert.match(err.message, /^layer 1: digest mismatch after 43 bytes/);
      return true;
    },
  );
});

test('openBlob: a Content-Length other than the descriptor size fails before reading', async (t) => {
  const { client, ref } = await setup(t, { [blobPath]: (_req, res) => sendBody(res, Buffer.concat([blob, blob])) });
  await assert.rejects(client.openBlob(ref, descriptor), {
    code: 'LKVOL_DIGEST_MISMATCH',
    bytesRead: 0,
    message: /size mismatch after 0 bytes: expected 43 bytes, got Content-Length 86/,
  });
});

test('openBlob: a body cut short of its Content-Length is an error, never a short success', async (t) => {
  const { client, ref } = await setup(t, {
    [blobPath]: (_req, res) => {
      res.writeHead(200, { 'content-length': blob.length });
      res.write(blob.subarray(0, 10), () => res.socket?.destroy());
    },
  });
  await assert.rejects(drain(await client.openBlob(ref, descriptor)), { code: 'LKVOL_REGISTRY_UNAVAILABLE' });
});

test('openBlob: a chunked body longer than the descriptor fails as soon as it overflows', async (t) => {
  const { client, ref } = await setup(t, {
    [blobPath]: (_req, res) => {
      res.write(blob);
      res.end('more');
    },
  });
  await assert.rejects(drain(await client.openBlob(ref, descriptor)), {
    code: 'LKVOL_DIGEST_MISMATCH',
    message: /size mismatch/,
  });
});

test('openBlob: aborting the signal mid-body ends the stream as cancelled', async (t) => {
  const controller = new AbortController();
  const { client, ref } = await setup(t, {
    [blobPath]: (_req, res) => {
      res.writeHead(200, { 'content-length': blob.length });
      res.write(blob.subarray(0, 10));
    },
  });
  const stream = await client.openBlob(ref, descriptor, { signal: controller.signal });
  stream.once('data', () => controller.abort());
  await assert.rejects(drain(stream), { code: 'LKVOL_CANCELLED' });
});

test('fetchBlobBytes: a config descriptor above the cap is refused without a request', async (t) => {
  const { client, ref } = await setup(t, {});
  await assert.rejects(client.fetchBlobBytes(ref, { ...descriptor, size: 5 << 20 }), {
    code: 'LKVOL_REGISTRY_PROTOCOL',
    message: /exceeds the 4194304-byte limit/,
  });
});

test('fetchManifest: a pinned digest is checked against the bytes received', async (t) => {
  const served = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: [] }));
  const pinned = digestOf('something else');
  const { client, ref } = await setup(t, { [`/v2/x/y/manifests/${pinned}`]: (_req, res) => sendBody(res, served) });
  await assert.rejects(client.fetchManifest({ ...ref, digest: pinned }), {
    code: 'LKVOL_DIGEST_MISMATCH',
    expected: pinned,
    actual: digestOf(served),
  });
});

test('fetchManifest: a tag is not checked against Docker-Content-Digest', async (t) => {
  const served = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: [] }));
  const { client, ref } = await setup(t, {
    '/v2/x/y/manifests/1': (_req, res) => {
      res.writeHead(200, { 'content-type': mediaTypes.ociIndex, 'docker-content-digest': digestOf('lies') });
      res.end(served);
    },
  });
  assert.equal((await client.fetchManifest(ref)).digest, digestOf(served));
});

test('fetchManifest: a manifest above 4 MiB is refused', async (t) => {
  const { client, ref } = await setup(t, {
    '/v2/x/y/manifests/1': (_req, res) => sendBody(res, Buffer.alloc((4 << 20) + 1, 0x20)),
  });
  await assert.rejects(client.fetchManifest(ref), {
    code: 'LKVOL_REGISTRY_PROTOCOL',
    message: /response body exceeds 4194304 bytes/,
  });
});

test('fetchManifest: a chunked manifest above 4 MiB is cut off while reading', async (t) => {
  const { client, ref } = await setup(t, {
    '/v2/x/y/manifests/1': (_req, res) => {
      for (let i = 0; i < 5; i++) res.write(Buffer.alloc(1 << 20, 0x20));
      res.end();
    },
  });
  await assert.rejects(client.fetchManifest(ref), {
    code: 'LKVOL_REGISTRY_PROTOCOL',
    message: /exceeds 4194304 bytes/,
  });
});
