// Blob fetching: a verified stream of a blob's bytes (resumed with Range after a break), and capped in-memory reads for
// configs.
import type { Readable, Writable } from 'node:stream';
import { RegistryError, isLkvolError, wrapError } from '../errors.js';
import { createVerifier, parseDigest, type Digest } from '../digest/index.js';
import type { Descriptor } from '../oci/index.js';
import { formatName, type NormalizedRef } from '../ref/index.js';
import { checkBlobResponse } from './range.js';
import { bodyLimits, discardBody, networkError } from './response.js';
import { isRetryableNetworkError } from './retry.js';
import type { RegistryResponse, Transport } from './transport.js';

/** Options of a blob read. */
export interface BlobOptions {
  signal?: AbortSignal | undefined;
  /** What the blob is, for messages (default `blob <digest> of <registry/repository>`). */
  subject?: string | undefined;
  /** How often a body that breaks is resumed with `Range: bytes=N-` (default 3; 0 = never). */
  maxResumes?: number | undefined;
}

/** A blob read: the descriptor of the blob, and how to read it. */
export interface BlobRequest extends BlobOptions {
  descriptor: Descriptor;
}

interface BlobRead {
  transport: Transport;
  ref: NormalizedRef;
  digest: Digest;
  size: number;
  subject: string;
  signal: AbortSignal | undefined;
}

/**
 * Opens a blob as a stream already wrapped in a verifier: the digest and size of the whole blob are
 * checked while the consumer reads, and the stream errors at EOF on a mismatch. A Content-Length that
 * differs from the descriptor size fails before any byte is read. When the connection breaks mid-body,
 * the rest is requested with `Range: bytes=N-` and used only if the answer is a 206 whose
 * `Content-Range` starts at N and ends at the blob's end; anything else fails the stream (temporary),
 * never splicing other bytes in. The consumer must read to EOF.
 * @throws LKVOL_DIGEST_MISMATCH, LKVOL_REGISTRY_* (also as stream errors), LKVOL_CANCELLED.
 */
export async function openBlob(transport: Transport, ref: NormalizedRef, opts: BlobRequest): Promise<Readable> {
  const { descriptor } = opts;
  const digest = parseDigest(descriptor.digest, `blob of ${formatName(ref)}`);
  const read: BlobRead = {
    transport,
    ref,
    digest,
    size: descriptor.size,
    subject: opts.subject ?? `blob ${digest} of ${formatName(ref)}`,
    signal: opts.signal,
  };
  const first = await requestFrom(read, 0);
  const verifier = createVerifier({ digest, size: descriptor.size, subject: read.subject });
  // A small blob may fail its check before the caller has piped it anywhere: the error stays on the
  // stream (`errored`) for the consumer, and must not crash the process meanwhile.
  verifier.on('error', () => undefined);
  copyWithResume(read, first, verifier, opts.maxResumes ?? 3).catch((err: unknown) => {
    if (!verifier.destroyed) verifier.destroy(err as Error);
  });
  return verifier;
}

/** GETs the blob from `offset` (a Range request when > 0) and checks status, Content-Length and Content-Range. */
async function requestFrom(r: BlobRead, offset: number): Promise<RegistryResponse> {
  const res = await r.transport.request({
    method: 'GET',
    path: `/v2/${r.ref.repository}/blobs/${r.digest}`,
    scope: `repository:${r.ref.repository}:pull`,
    subject: r.subject,
    signal: r.signal,
    ...(offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {}),
  });
  try {
    checkBlobResponse(res, { offset, size: r.size, subject: r.subject });
  } catch (err) {
    discardBody(res.body);
    throw err;
  }
  return res;
}

/** Copies bodies into the verifier, re-requesting from the current offset when a body breaks. */
async function copyWithResume(r: BlobRead, first: RegistryResponse, out: Writable, maxResumes: number): Promise<void> {
  let res = first;
  let offset = 0;
  const stopOnClose = () => {
    if (!res.body.destroyed) discardBody(res.body);
  };
  out.on('close', stopOnClose);
  for (let resumes = 0; ; resumes++) {
    try {
      for await (const chunk of res.body) {
        offset += (chunk as Buffer).length;
        if (!out.write(chunk) && !(await drained(out))) return;
      }
      out.end();
      return;
    } catch (err) {
      if (out.destroyed) return;
      if (isLkvolError(err) || resumes >= maxResumes || r.signal?.aborted === true || !isRetryableNetworkError(err))
        throw networkError(err, res.ctx);
    }
    // The verifier has taken `offset` bytes: only the rest, from exactly there, may follow.
    res = await requestFrom(r, offset);
    if (out.destroyed) stopOnClose();
  }
}

/** Waits for 'drain'; false when the writable closed instead (the consumer stopped reading). */
function drained(w: Writable): Promise<boolean> {
  return new Promise((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      resolve(!w.destroyed);
    };
    w.on('drain', done);
    w.on('close', done);
  });
}

/**
 * Reads a small blob (an image config) into memory, verified, refusing descriptors above `maxBytes`
 * (default 4 MiB) before the request.
 * @throws LKVOL_REGISTRY_PROTOCOL when too large, and everything `openBlob` throws.
 */
export async function fetchBlobBytes(
  transport: Transport,
  ref: NormalizedRef,
  opts: BlobRequest & { maxBytes?: number | undefined },
): Promise<Buffer> {
  const { descriptor } = opts;
  const max = opts.maxBytes ?? bodyLimits.config;
  const subject = opts.subject ?? `blob ${descriptor.digest} of ${formatName(ref)}`;
  if (descriptor.size > max) {
    throw new RegistryError(
      'LKVOL_REGISTRY_PROTOCOL',
      `${subject}: descriptor size ${descriptor.size} exceeds the ${max}-byte limit`,
      {},
    );
  }
  const stream = await openBlob(transport, ref, opts);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk as Buffer);
  } catch (err) {
    throw wrapError(err, 'LKVOL_REGISTRY_UNAVAILABLE', `${subject}: read body`);
  }
  return Buffer.concat(chunks);
}
