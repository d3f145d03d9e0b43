// The registry client: one transport per registry (and mirror); manifests (verified when pinned), configs and blobs.
import type { Readable } from 'node:stream';
import type { Descriptor, Platform } from '../oci/index.js';
import { createOnce } from '../internal/async.js';
import { formatReference, type NormalizedRef } from '../ref/index.js';
import { fetchBlobBytes, openBlob, type BlobOptions } from './blob.js';
import type { Credentials } from './auth-file.js';
import type { CredentialResolver } from './credentials.js';
import type { ProxyOptions } from './dispatcher.js';
import {
  fetchManifest,
  headManifest,
  type FetchedManifest,
  type ManifestHead,
  type ManifestOptions,
} from './manifest.js';
import { listTags } from './tags.js';
import {
  createMirrorRouter,
  type Mirror,
  type MirrorPurpose,
  type MirrorRouter,
  type MirrorWarning,
} from './mirrors.js';
import { loadRegistryTls, type RegistryTls } from './tls.js';
import { resolveImage, type ResolvedImage } from './resolve.js';
import type { RetryOptions } from './retry.js';
import { createTransport, type Transport } from './transport.js';

export type { FetchedManifest, ManifestHead, ManifestOptions } from './manifest.js';

export interface RegistryClientOptions {
  /** Credentials per registry host; anonymous when absent or when it returns undefined. */
  credentials?: CredentialResolver | undefined;
  /** Hosts (`host` or `host:port`) where TLS is not verified and plain HTTP is allowed (`--insecure-registry`). */
  insecureRegistries?: readonly string[] | undefined;
  /** Extra CA certificates (PEM text) trusted for every registry. */
  caCert?: string | Buffer | undefined;
  /** Files of extra CA certificates trusted for every registry (`--ca-cert`); read at first use. */
  caCertFiles?: readonly string[] | undefined;
  /** PEM text of CA certificates trusted for every registry, unchecked, as Node trusts `NODE_EXTRA_CA_CERTS`. */
  extraCaCerts?: string | undefined;
  /**
   * Directories with `<host:port>/ca.crt` (and `client.cert` + `client.key`), as Docker's `certs.d` (`--certs-dir`).
   */
  certsDirs?: readonly string[] | undefined;
  /** Mirrors, tried in order (see `parseMirror` and lib/registry/README.md "Mirrors"). */
  mirrors?: readonly Mirror[] | undefined;
  /** HTTP(S) proxies; none by default (lib never reads `HTTPS_PROXY`). */
  proxy?: ProxyOptions | undefined;
  /** Retry policy; tests pass tiny delays or a recording `sleep`. */
  retry?: Partial<RetryOptions> | undefined;
  /** Range resumes per blob read (default 3). */
  maxResumes?: number | undefined;
  userAgent?: string | undefined;
  /** Mirror fallbacks (`LKVOL_WARN_MIRROR`, `LKVOL_WARN_MIRROR_RESOLVE`), each reported once. */
  onWarning?: ((w: MirrorWarning) => void) | undefined;
}

export interface RegistryClient {
  /** Resolves a reference to the manifest, config and platform to use (see `resolveImage`). */
  resolveImage(
    ref: NormalizedRef,
    opts: { platform: Platform; signal?: AbortSignal | undefined },
  ): Promise<ResolvedImage>;
  /**
   * Fetches what `ref` names (its digest when pinned: mirrors first; else its tag: the registry first).
   * Pinned digests and `size` are verified against the bytes received.
   * @throws LKVOL_DIGEST_MISMATCH, LKVOL_REGISTRY_*, LKVOL_UNSUPPORTED_MEDIA_TYPE, LKVOL_CANCELLED.
   */
  fetchManifest(ref: NormalizedRef, opts?: ManifestOptions): Promise<FetchedManifest>;
  /** HEADs what `ref` names, for its digest. @throws LKVOL_REGISTRY_*, LKVOL_CANCELLED. */
  headManifest(ref: NormalizedRef, opts?: { signal?: AbortSignal | undefined }): Promise<ManifestHead>;
  /** Reads a small blob (config) into memory, capped (4 MiB) and verified. */
  fetchBlobBytes(
    ref: NormalizedRef,
    descriptor: Descriptor,
    opts?: BlobOptions & { maxBytes?: number | undefined },
  ): Promise<Buffer>;
  /** A verifying stream of a blob's raw bytes (see `openBlob` in blob.ts). */
  openBlob(ref: NormalizedRef, descriptor: Descriptor, opts?: BlobOptions): Promise<Readable>;
  /**
   * The first page of the repository's tags (`GET /v2/<name>/tags/list`).
   * @throws LKVOL_REGISTRY_* (listing may be refused).
   */
  listTags(ref: NormalizedRef, opts?: { signal?: AbortSignal | undefined }): Promise<string[]>;
  /** Closes every connection. */
  close(): Promise<void>;
}

/**
 * Creates a client; credentials, TLS material and transports are made lazily per registry or mirror (one
 * transport per host, endpoint and credentials origin, so namespaced `auths` keys get their own tokens).
 * Errors from credential lookup (LKVOL_REGISTRY_AUTH, LKVOL_IO) and TLS files (LKVOL_USAGE, LKVOL_IO) surface on the
 * first request.
 */
export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const transports = createOnce<Transport>({ retryFailures: true });
  const tlsByHost = createOnce<RegistryTls>({ retryFailures: true });
  const routers = new Map<string, MirrorRouter>();
  const transportFor = async (host: string, repository: string, endpoint: string | undefined): Promise<Transport> => {
    const credentials = await options.credentials?.(host, repository);
    const tls = tlsByHost(host, () => loadRegistryTls(host, options));
    return transports(`${host}\0${endpoint ?? ''}\0${credentials?.origin ?? ''}`, async () =>
      makeTransport({ host, endpoint, credentials, tls: await tls }, options),
    );
  };
  const route = <T>(ref: NormalizedRef, purpose: MirrorPurpose, fn: (t: Transport) => Promise<T>): Promise<T> => {
    let router = routers.get(ref.registry);
    if (router === undefined) {
      const urls = (options.mirrors ?? []).filter((m) => m.registry === ref.registry).map((m) => m.url);
      router = createMirrorRouter(urls, options.onWarning ?? (() => undefined));
      routers.set(ref.registry, router);
    }
    return router(purpose, formatReference(ref), ref.registry, async (m) =>
      fn(await transportFor(m === undefined ? ref.registry : new URL(m).host, ref.repository, m)),
    );
  };
  const pinned = (ref: NormalizedRef): MirrorPurpose => (ref.digest === undefined ? 'tag' : 'content');
  const blobOpts = <O extends BlobOptions>(o: O): O => ({ maxResumes: options.maxResumes, ...o });
  const client: RegistryClient = {
    resolveImage: (ref, opts) => resolveImage(client, ref, opts),
    fetchManifest: (ref, opts = {}) => route(ref, pinned(ref), (t) => fetchManifest(t, ref, opts)),
    headManifest: (ref, opts = {}) => route(ref, pinned(ref), (t) => headManifest(t, ref, opts)),
    fetchBlobBytes: (ref, descriptor, opts = {}) =>
      route(ref, 'content', (t) => fetchBlobBytes(t, ref, blobOpts({ ...opts, descriptor }))),
    openBlob: (ref, descriptor, opts = {}) =>
      route(ref, 'content', (t) => openBlob(t, ref, blobOpts({ ...opts, descriptor }))),
    listTags: (ref, opts = {}) => route(ref, 'tag', (t) => listTags(t, ref, opts)),
    async close() {
      const all = await Promise.allSettled(transports.held());
      transports.clear();
      await Promise.all(all.flatMap((r) => (r.status === 'fulfilled' ? [r.value.close()] : [])));
    },
  };
  return client;
}

function makeTransport(
  t: { host: string; endpoint: string | undefined; credentials: Credentials | undefined; tls: RegistryTls },
  options: RegistryClientOptions,
): Transport {
  const bare = t.host.replace(/:\d+$/, '');
  const insecure = options.insecureRegistries?.some((h) => h === t.host || h === bare) ?? false;
  return createTransport({
    registry: t.host,
    endpoint: t.endpoint,
    credentials: t.credentials,
    insecure,
    tls: t.tls,
    retry: options.retry,
    userAgent: options.userAgent,
    proxy: options.proxy,
  });
}
