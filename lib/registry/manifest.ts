// Manifest requests: GET (capped, verified when pinned, parsed) and HEAD (digest only, for revalidating cached tags).
import { DigestMismatchError } from '../errors.js';
import { digestAlgorithm, digestOf, parseDigest, type Digest } from '../digest/index.js';
import { manifestAccept, parseManifestDocument, type ManifestDocument } from '../oci/index.js';
import { formatReference, type NormalizedRef } from '../ref/index.js';
import { bodyLimits, readCapped } from './response.js';
import type { Transport } from './transport.js';

/** A manifest or index as fetched: its digest (of the exact bytes), bytes and parsed document. */
export interface FetchedManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
  document: ManifestDocument;
}

/** What a HEAD of a manifest says; `digest` is undefined when the registry sent no usable `Docker-Content-Digest`. */
export interface ManifestHead {
  digest: Digest | undefined;
  mediaType: string | undefined;
  size: number | undefined;
}

/** Options of a manifest GET: the expected size and media type come from the parent descriptor. */
export interface ManifestOptions {
  size?: number | undefined;
  /** Media type from the descriptor, used when the registry's Content-Type says nothing. */
  mediaType?: string | undefined;
  signal?: AbortSignal | undefined;
}

function request(ref: NormalizedRef, method: 'GET' | 'HEAD', signal: AbortSignal | undefined) {
  const pinned = ref.digest === undefined ? undefined : parseDigest(ref.digest, `reference ${formatReference(ref)}`);
  return {
    pinned,
    req: {
      method,
      path: `/v2/${ref.repository}/manifests/${pinned ?? ref.tag ?? 'latest'}`,
      scope: `repository:${ref.repository}:pull`,
      accept: manifestAccept,
      subject: `pull ${formatReference(ref)}`,
      signal,
    },
  };
}

/**
 * GETs what `ref` names (its digest when pinned, else its tag), capped at 4 MiB. Pinned digests and
 * `size` are verified against the bytes received; tags are not compared with Docker-Content-Digest.
 * @throws LKVOL_DIGEST_MISMATCH, LKVOL_REGISTRY_*, LKVOL_UNSUPPORTED_MEDIA_TYPE (schema1, unknown), LKVOL_CANCELLED.
 */
export async function fetchManifest(
  transport: Transport,
  ref: NormalizedRef,
  opts: ManifestOptions = {},
): Promise<FetchedManifest> {
  const { pinned, req } = request(ref, 'GET', opts.signal);
  const res = await transport.request(req);
  const bytes = await readCapped(res.body, res.ctx, {
    limit: bodyLimits.manifest,
    contentLength: res.headers['content-length'],
  });
  const contentType = typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : undefined;
  return checkManifest(bytes, {
    subject: req.subject,
    pinned,
    size: opts.size,
    contentType: contentType ?? opts.mediaType,
  });
}

/**
 * Verifies and parses manifest bytes (from a registry or the cache): the pinned digest and the size must match.
 * @throws LKVOL_DIGEST_MISMATCH, LKVOL_REGISTRY_PROTOCOL, LKVOL_UNSUPPORTED_MEDIA_TYPE.
 */
export function checkManifest(
  bytes: Buffer,
  o: { subject: string; pinned: Digest | undefined; size: number | undefined; contentType: string | undefined },
): FetchedManifest {
  const digest = digestOf(bytes, o.pinned === undefined ? 'sha256' : digestAlgorithm(o.pinned));
  if (o.pinned !== undefined && digest !== o.pinned) {
    throw new DigestMismatchError({
      subject: `${o.subject}: manifest`,
      expected: o.pinned,
      actual: digest,
      bytesRead: bytes.length,
    });
  }
  if (o.size !== undefined && bytes.length !== o.size) {
    throw new DigestMismatchError({
      subject: `${o.subject}: manifest`,
      expected: `${o.size} bytes`,
      actual: `${bytes.length} bytes`,
      bytesRead: bytes.length,
      reason: 'size mismatch',
    });
  }
  const document = parseManifestDocument(bytes, {
    contentType: o.contentType,
    subject: `${o.subject}: manifest ${digest}`,
  });
  return { digest, mediaType: document.mediaType, bytes, document };
}

/**
 * HEADs a manifest: cheap, and not counted against Docker Hub's pull limit (containers/image#1078).
 * @throws LKVOL_REGISTRY_*, LKVOL_CANCELLED.
 */
export async function headManifest(
  transport: Transport,
  ref: NormalizedRef,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<ManifestHead> {
  const res = await transport.request(request(ref, 'HEAD', opts.signal).req);
  await res.body.dump().catch(() => undefined);
  const h = (name: string) => (typeof res.headers[name] === 'string' ? res.headers[name] : undefined);
  let digest: Digest | undefined;
  try {
    digest = h('docker-content-digest') === undefined ? undefined : parseDigest(h('docker-content-digest')!);
  } catch {
    digest = undefined;
  }
  const size = Number(h('content-length'));
  return { digest, mediaType: h('content-type'), size: Number.isSafeInteger(size) && size > 0 ? size : undefined };
}
