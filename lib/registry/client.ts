// The registry client: one transport per registry; manifests (verified when pinned), configs and blobs.
import type { Readable } from 'node:stream';
import { DigestMismatchError } from '../errors.js';
import { digestAlgorithm, digestOf, parseDigest, type Digest } from '../digest/index.js';
import { manifestAccept, parseManifestDocument, type Descriptor, type ManifestDocument, type Platform } from '../oci/index.js';
import { formatReference, type NormalizedRef } from '../ref/index.js';
import { fetchBlobBytes, openBlob, type BlobOptions } from './blob.js';
import type { CredentialResolver } from './credentials.js';
import { resolveImage, type ResolvedImage } from './resolve.js';
import { bodyLimits, readCapped } from './response.js';
import type { RetryOptions } from './retry.js';
import { createTransport, type Transport } from './transport.js';

export interface RegistryClientOptions {
  /** Credentials per registry host; anonymous when absent or when it returns undefined. */
  credentials?: CredentialResolver | undefined;
  /** Hosts (`host` or `host:port`) where TLS is not verified and plain HTTP is allowed (`--insecure-registry`). */
  insecureRegistries?: readonly string[] | undefined;
  /** Extra CA certificates (PEM) to trust (`--ca-cert`). */
  caCert?: string | Buffer | undefined;
  /** Retry policy; tests pass tiny delays or a recording `sleep`. */
  retry?: Partial<RetryOptions> | undefined;
  userAgent?: string | undefined;
}

/** A manifest or index as fetched: its digest (of the exact bytes), bytes and parsed document. */
export interface FetchedManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
  document: ManifestDocument;
}

export interface RegistryClient {
  /** Resolves a reference to the manifest, config and platform to use (see `resolveImage`). */
  resolveImage(ref: NormalizedRef, opts: { platform: Platform; signal?: AbortSignal | undefined }): Promise<ResolvedImage>;
  /**
   * Fetches what `ref` names (its digest when pinned, else its tag). Pinned digests and `size` are
   * verified against the bytes received; tags are not compared with Docker-Content-Digest.
   * @throws LKVOL_DIGEST_MISMATCH, LKVOL_REGISTRY_*, LKVOL_UNSUPPORTED_MEDIA_TYPE, LKVOL_CANCELLED.
   */
  fetchManifest(ref: NormalizedRef, opts?: { size?: number | undefined; signal?: AbortSignal | undefined }): Promise<FetchedManifest>;
  /** Reads a small blob (config) into memory, capped (4 MiB) and verified. */
  fetchBlobBytes(ref: NormalizedRef, descriptor: Descriptor, opts?: BlobOptions & { maxBytes?: number | undefined }): Promise<Buffer>;
  /** A verifying stream of a blob's raw bytes (see `openBlob` in blob.ts). */
  openBlob(ref: NormalizedRef, descriptor: Descriptor, opts?: BlobOptions): Promise<Readable>;
  /** Closes every connection. */
  close(): Promise<void>;
}

/** Creates a client; transports (and credential lookups) are made lazily per registry. */
export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const transports = new Map<string, Promise<Transport>>();
  const transportFor = (registry: string): Promise<Transport> => {
    let t = transports.get(registry);
    if (t === undefined) {
      t = makeTransport(registry, options);
      transports.set(registry, t);
      t.catch(() => transports.delete(registry));
    }
    return t;
  };
  const client: RegistryClient = {
    resolveImage: (ref, opts) => resolveImage(client, ref, opts),
    fetchManifest: async (ref, opts = {}) => fetchManifest(await transportFor(ref.registry), ref, opts),
    fetchBlobBytes: async (ref, descriptor, opts = {}) => fetchBlobBytes(await transportFor(ref.registry), ref, descriptor, opts),
    openBlob: async (ref, descriptor, opts = {}) => openBlob(await transportFor(ref.registry), ref, descriptor, opts),
    async close() {
      const all = await Promise.allSettled(transports.values());
      transports.clear();
      await Promise.all(all.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    },
  };
  return client;
}

async function makeTransport(registry: string, options: RegistryClientOptions): Promise<Transport> {
  const host = registry.replace(/:\d+$/, '');
  const insecure = options.insecureRegistries?.some((h) => h === registry || h === host) ?? false;
  const credentials = await options.credentials?.(registry);
  return createTransport({ registry, credentials, insecure, caCert: options.caCert, retry: options.retry, userAgent: options.userAgent });
}

async function fetchManifest(transport: Transport, ref: NormalizedRef, opts: { size?: number | undefined; signal?: AbortSignal | undefined }): Promise<FetchedManifest> {
  const pinned = ref.digest === undefined ? undefined : parseDigest(ref.digest, `reference ${formatReference(ref)}`);
  const subject = `pull ${formatReference(ref)}`;
  const res = await transport.request({
    method: 'GET',
    path: `/v2/${ref.repository}/manifests/${pinned ?? ref.tag ?? 'latest'}`,
    scope: `repository:${ref.repository}:pull`,
    accept: manifestAccept,
    subject,
    signal: opts.signal,
  });
  const bytes = await readCapped(res.body, bodyLimits.manifest, res.ctx, res.headers['content-length']);
  const digest = digestOf(bytes, pinned === undefined ? 'sha256' : digestAlgorithm(pinned));
  if (pinned !== undefined && digest !== pinned) {
    throw new DigestMismatchError({ subject: `${subject}: manifest`, expected: pinned, actual: digest, bytesRead: bytes.length });
  }
  if (opts.size !== undefined && bytes.length !== opts.size) {
    throw new DigestMismatchError({ subject: `${subject}: manifest`, expected: `${opts.size} bytes`, actual: `${bytes.length} bytes`, bytesRead: bytes.length, reason: 'size mismatch' });
  }
  const contentType = res.headers['content-type'];
  const document = parseManifestDocument(bytes, { contentType: typeof contentType === 'string' ? contentType : undefined, subject: `${subject}: manifest ${digest}` });
  return { digest, mediaType: document.mediaType, bytes, document };
}
