// The registry client: one transport per registry; manifests (verified when pinned), configs and blobs.
import type { Readable } from 'node:stream';
import { DigestMismatchError } from '../errors.js';
import { digestAlgorithm, digestOf, parseDigest, type Digest } from '../digest/index.js';
import { manifestAccept, parseManifestDocument, type Descriptor, type ManifestDocument, type Platform } from '../oci/index.js';
import { formatReference, type NormalizedRef } from '../ref/index.js';
import { fetchBlobBytes, openBlob, type BlobOptions } from './blob.js';
import type { Credentials } from './auth-file.js';
import type { CredentialResolver } from './credentials.js';
import { loadRegistryTls, type RegistryTls } from './tls.js';
import { resolveImage, type ResolvedImage } from './resolve.js';
import { bodyLimits, readCapped } from './response.js';
import type { RetryOptions } from './retry.js';
import { createTransport, type Transport } from './transport.js';

export interface RegistryClientOptions {
  /** Credentials per registry host; anonymous when absent or when it returns undefined. */
  credentials?: CredentialResolver | undefined;
  /** Hosts (`host` or `host:port`) where TLS is not verified and plain HTTP is allowed (`--insecure-registry`). */
  insecureRegistries?: readonly string[] | undefined;
  /** Extra CA certificates (PEM text) trusted for every registry. */
  caCert?: string | Buffer | undefined;
  /** Files of extra CA certificates trusted for every registry (`--ca-cert`); read at first use. */
  caCertFiles?: readonly string[] | undefined;
  /** Directories with `<host:port>/ca.crt` (and `client.cert` + `client.key`), as Docker's `certs.d` (`--certs-dir`). */
  certsDirs?: readonly string[] | undefined;
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

/**
 * Creates a client; credentials, TLS material and transports are made lazily per registry (one transport
 * per registry and credentials origin, so namespaced `auths` keys get their own tokens).
 * Errors from credential lookup (LKVOL_REGISTRY_AUTH, LKVOL_IO) and TLS files (LKVOL_USAGE, LKVOL_IO) surface on the first request.
 */
export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const transports = new Map<string, Promise<Transport>>();
  const tlsByRegistry = new Map<string, Promise<RegistryTls>>();
  const memo = <T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> => {
    let p = map.get(key);
    if (p === undefined) {
      p = make();
      map.set(key, p);
      p.catch(() => map.delete(key));
    }
    return p;
  };
  const transportFor = async (ref: NormalizedRef): Promise<Transport> => {
    const credentials = await options.credentials?.(ref.registry, ref.repository);
    const tls = memo(tlsByRegistry, ref.registry, () => loadRegistryTls(ref.registry, options));
    return memo(transports, `${ref.registry}\0${credentials?.origin ?? ''}`, async () => makeTransport(ref.registry, credentials, await tls, options));
  };
  const client: RegistryClient = {
    resolveImage: (ref, opts) => resolveImage(client, ref, opts),
    fetchManifest: async (ref, opts = {}) => fetchManifest(await transportFor(ref), ref, opts),
    fetchBlobBytes: async (ref, descriptor, opts = {}) => fetchBlobBytes(await transportFor(ref), ref, descriptor, opts),
    openBlob: async (ref, descriptor, opts = {}) => openBlob(await transportFor(ref), ref, descriptor, opts),
    async close() {
      const all = await Promise.allSettled(transports.values());
      transports.clear();
      await Promise.all(all.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    },
  };
  return client;
}

function makeTransport(registry: string, credentials: Credentials | undefined, tls: RegistryTls, options: RegistryClientOptions): Transport {
  const host = registry.replace(/:\d+$/, '');
  const insecure = options.insecureRegistries?.some((h) => h === registry || h === host) ?? false;
  return createTransport({ registry, credentials, insecure, tls, retry: options.retry, userAgent: options.userAgent });
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
