// Blob fetching: a verified stream of a blob's bytes, and capped in-memory reads for configs.
import type { Readable } from 'node:stream';
import { DigestMismatchError, RegistryError, wrapError } from '../errors.js';
import { createVerifier, parseDigest } from '../digest/index.js';
import type { Descriptor } from '../oci/index.js';
import { formatName, type NormalizedRef } from '../ref/index.js';
import { bodyLimits, discardBody, networkError } from './response.js';
import type { Transport } from './transport.js';

/** Options of a blob read. */
export interface BlobOptions {
  signal?: AbortSignal | undefined;
  /** What the blob is, for messages (default `blob <digest> of <registry/repository>`). */
  subject?: string | undefined;
}

/**
 * Opens a blob as a stream already wrapped in a verifier: the digest and size are checked while the
 * consumer reads, and the stream errors at EOF on a mismatch. A Content-Length that differs from the
 * descriptor size fails before any byte is read. The consumer must read to EOF.
 * @throws LKVOL_DIGEST_MISMATCH, LKVOL_REGISTRY_* (also as stream errors), LKVOL_CANCELLED.
 */
export async function openBlob(transport: Transport, ref: NormalizedRef, descriptor: Descriptor, opts: BlobOptions = {}): Promise<Readable> {
  const digest = parseDigest(descriptor.digest, `blob of ${formatName(ref)}`);
  const subject = opts.subject ?? `blob ${digest} of ${formatName(ref)}`;
  const res = await transport.request({
    method: 'GET',
    path: `/v2/${ref.repository}/blobs/${digest}`,
    scope: `repository:${ref.repository}:pull`,
    subject,
    signal: opts.signal,
  });
  const length = res.headers['content-length'];
  if (typeof length === 'string' && Number(length) !== descriptor.size) {
    discardBody(res.body);
    throw new DigestMismatchError({ subject, expected: `${descriptor.size} bytes`, actual: `Content-Length ${length}`, bytesRead: 0, reason: 'size mismatch' });
  }
  const verifier = createVerifier({ digest, size: descriptor.size, subject });
  res.body.on('error', (err) => {
    if (!verifier.destroyed) verifier.destroy(networkError(err, res.ctx));
  });
  verifier.on('close', () => {
    if (!res.body.destroyed) discardBody(res.body);
  });
  res.body.pipe(verifier);
  return verifier;
}

/**
 * Reads a small blob (an image config) into memory, verified, refusing descriptors above `maxBytes`
 * (default 4 MiB) before the request.
 * @throws LKVOL_REGISTRY_PROTOCOL when too large, and everything `openBlob` throws.
 */
export async function fetchBlobBytes(
  transport: Transport,
  ref: NormalizedRef,
  descriptor: Descriptor,
  opts: BlobOptions & { maxBytes?: number | undefined } = {},
): Promise<Buffer> {
  const max = opts.maxBytes ?? bodyLimits.config;
  if (descriptor.size > max) {
    throw new RegistryError('LKVOL_REGISTRY_PROTOCOL', `${opts.subject ?? `blob ${descriptor.digest} of ${formatName(ref)}`}: descriptor size ${descriptor.size} exceeds the ${max}-byte limit`, {});
  }
  const stream = await openBlob(transport, ref, descriptor, opts);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk as Buffer);
  } catch (err) {
    throw wrapError(err, 'LKVOL_REGISTRY_UNAVAILABLE', `${opts.subject ?? `blob ${descriptor.digest} of ${formatName(ref)}`}: read body`);
  }
  return Buffer.concat(chunks);
}
