// One command's access to images: resolve each reference once, fetch each blob once into the cache, or only read the
// cache (--offline).
import { resolve as resolvePath } from 'node:path';
import type { Readable } from 'node:stream';
import { createBlobCache, missingBlobError, type BlobCache } from '../cache/index.js';
import { createTagStore } from '../cache/tags.js';
import { parseDigest, shortDigest, type Digest } from '../digest/index.js';
import { LkvolError, RegistryError, isLkvolError } from '../errors.js';
import type { EventSink } from '../events.js';
import type { Descriptor, Platform } from '../oci/index.js';
import { localMismatchHint, localResolveError, openLocalImage, type LocalImageSource } from '../local/index.js';
import { formatName, formatReference, referenceKey, type NormalizedRef } from '../ref/index.js';
import {
  createRegistryClient,
  loadCredentials,
  parseMirror,
  redactUrl,
  resolveImage,
  type CredentialWarning,
  type FetchedManifest,
  type ManifestSource,
  type MirrorWarning,
  type ProxyOptions,
  type RegistryClient,
  type ResolvedImage,
  type RetryOptions,
} from '../registry/index.js';
import { taskSignal } from '../internal/abort.js';
import { createImageSource } from './image-source.js';
import { resolveCwd } from './options.js';
import { createLimiter, createOnce } from '../internal/async.js';

type Limiter = ReturnType<typeof createLimiter>;

export interface PullSession {
  /** Resolves a reference to its manifest and config for the build platform (memoised per reference). */
  resolve(ref: NormalizedRef): Promise<ResolvedImage>;
  /** Makes sure a blob is in the cache (memoised per digest; at most `jobs` downloads at once). */
  fetchBlob(ref: NormalizedRef, descriptor: Descriptor): Promise<void>;
  /** Fetches the blob if needed, then opens the cached copy through a verifier (see `corruptCachedDigest`). */
  openBlob(ref: NormalizedRef, descriptor: Descriptor): Promise<Readable>;
  /**
   * The blob's bytes as its download writes them into the cache, so extraction overlaps the
   * download (or the cached copy, verified, when it is already there). The stream ends only once the
   * download has verified them; it may fail with `FollowInterruptedError` (start over with openBlob).
   */
  followBlob(ref: NormalizedRef, descriptor: Descriptor): Promise<Readable>;
  /** Drops a cached blob that turned out corrupt, so the next fetchBlob downloads it again. */
  forgetBlob(digest: Digest): Promise<void>;
  /** Fetches the manifest or index a reference names, without choosing a platform (`format: oci`); cache first. */
  fetchManifest(ref: NormalizedRef, size?: number): Promise<FetchedManifest>;
  /** Closes registry connections and removes temporary copies of compressed archives. */
  close(): Promise<void>;
  readonly cache: BlobCache;
}

export interface PullSessionOptions {
  cacheDir: string;
  /** What relative paths of local images (`oci-layout:`, `docker-archive:`) start from; default the process's. */
  cwd?: string | undefined;
  platform: Platform;
  jobs: number;
  insecureRegistries: string[];
  dockerConfigPath: string | undefined;
  authFiles: string[];
  env?: Record<string, string | undefined> | undefined;
  caCertFiles: string[];
  extraCaCerts?: string | undefined;
  certsDirs: string[];
  userAgent: string;
  /** Use only the cache: no registry is contacted, and a missing tag or blob is an error naming it. */
  offline?: boolean | undefined;
  /** Resolve every tag with a GET at the registry, even when its record in the cache is current. */
  pull?: boolean | undefined;
  /** `REGISTRY=URL` mirror specs (`--mirror`). */
  mirrors?: readonly string[] | undefined;
  proxy?: ProxyOptions | undefined;
  retry?: Partial<RetryOptions> | undefined;
  onEvent: EventSink;
  signal: AbortSignal | undefined;
}

/** How often a blob download starts again from its first byte after a temporary failure mid-body. */
const downloadAttempts = 2;

/**
 * Creates the session. Under `offline` no credentials are read and no client is made.
 * @throws LKVOL_IO when the cache or a credentials file cannot be read, LKVOL_USAGE for a bad mirror spec.
 */
export async function createPullSession(o: PullSessionOptions): Promise<PullSession> {
  const cache = await createBlobCache({ dir: o.cacheDir });
  const client = o.offline === true ? undefined : await createClient(o);
  const tags = createTagStore({ dir: o.cacheDir });
  const policy = o.offline === true ? 'offline' : o.pull === true ? 'pull' : 'revalidate';
  // Local images need no registry, so --offline builds read them too; one source per layout or archive.
  const locals = new Map<string, LocalImageSource>();
  // Decompressed copies of compressed archives, removed when the session closes.
  const temps: { discard(): Promise<void> }[] = [];
  const tempFile = () => {
    const temp = cache.tempFile();
    temps.push(temp);
    return temp;
  };
  const localSource = (ref: NormalizedRef): LocalImageSource | undefined => {
    if (ref.local === undefined) return undefined;
    const location = resolvePath(resolveCwd(o.cwd), ref.local.location);
    const key = `${ref.local.transport}:${ref.local.name ?? ''}:${location}`;
    let source = locals.get(key);
    if (source === undefined) locals.set(key, (source = openLocalImage(ref.local, location, { tempFile })));
    return source;
  };
  // A source per task, each with a signal of its own: resolves are not limited, so dozens run at once.
  const sourceFor = (ref: NormalizedRef, signal: AbortSignal | undefined): ManifestSource =>
    localSource(ref) ?? createImageSource({ client, cache, tags, policy, signal });
  const limit = createLimiter(o.jobs);
  const resolveOnce = createOnce<ResolvedImage>();
  const fetchOnce = createOnce<void>();

  const download = (ref: NormalizedRef, d: Descriptor) =>
    downloadBlob({ client, local: localSource(ref), cache, limit, o }, ref, d);

  return {
    cache,
    resolve(ref) {
      return resolveOnce(referenceKey(ref), async () => {
        const signal = taskSignal(o.signal);
        const image = await resolveImage(sourceFor(ref, signal), ref, { platform: o.platform, signal }).catch(
          (err: unknown) => {
            throw ref.local === undefined ? err : localResolveError(err);
          },
        );
        o.onEvent({ kind: 'resolve', image: formatReference(ref), digest: image.digest });
        for (const message of image.warnings) o.onEvent({ kind: 'warning', code: 'LKVOL_WARN_PLATFORM', message });
        return image;
      });
    },
    fetchBlob(ref, d) {
      return fetchOnce(d.digest, () => download(ref, d));
    },
    async openBlob(ref, d) {
      const digest: Digest = parseDigest(d.digest, `blob of ${formatReference(ref)}`);
      await fetchOnce(d.digest, () => download(ref, d));
      return cache.open(digest, d.size, `blob ${shortDigest(digest)} of ${formatReference(ref)}`);
    },
    async followBlob(ref, d) {
      const digest: Digest = parseDigest(d.digest, `blob of ${formatReference(ref)}`);
      const stored = fetchOnce(d.digest, () => download(ref, d));
      return cache.openWhileStoring(digest, d.size, `blob ${shortDigest(digest)} of ${formatReference(ref)}`, stored);
    },
    fetchManifest(ref, size) {
      const signal = taskSignal(o.signal);
      return sourceFor(ref, signal)
        .fetchManifest(ref, { size, signal })
        .catch((err: unknown) => {
          throw ref.local === undefined ? err : localResolveError(err);
        });
    },
    async close() {
      await Promise.all(temps.splice(0).map((t) => t.discard()));
      await client?.close();
    },
    async forgetBlob(digest) {
      await cache.remove(digest);
      fetchOnce.forget(digest);
    },
  };
}

/**
 * Puts one blob into the cache unless it is there, under the `--jobs` limit: copied from a local
 * layout or archive (the cache verifies it), or downloaded. A body that broke and could not be
 * resumed (Range ignored, resumes used up) starts again from byte 0, once.
 */
async function downloadBlob(
  s: {
    client: RegistryClient | undefined;
    local: LocalImageSource | undefined;
    cache: BlobCache;
    limit: Limiter;
    o: PullSessionOptions;
  },
  ref: NormalizedRef,
  d: Descriptor,
): Promise<void> {
  const { client, local, cache, o } = s;
  const digest = parseDigest(d.digest, `blob of ${formatReference(ref)}`);
  if (await cache.has(digest)) {
    o.onEvent({ kind: 'blob-done', digest, size: d.size, cached: true });
    return;
  }
  if (client === undefined && local === undefined)
    throw missingBlobError(digest, `pull ${formatReference(ref)}: layer`);
  const signal = taskSignal(o.signal);
  const signalOpt = signal === undefined ? {} : { signal };
  const subject = `blob ${shortDigest(digest)} of ${formatReference(ref)}`;
  const onProgress = (bytes: number) => o.onEvent({ kind: 'blob-progress', digest, bytes, size: d.size });
  await s.limit(async () => {
    if (local !== undefined) {
      const from = formatName(ref);
      o.onEvent({ kind: 'blob-start', digest, size: d.size, cached: false, from });
      await cache.put(digest, d.size, await local.openBlob(d, signalOpt), {
        subject,
        onProgress,
        mismatchHint: localMismatchHint,
        ...signalOpt,
      });
      o.onEvent({ kind: 'blob-done', digest, size: d.size, cached: false, from });
      return;
    }
    o.onEvent({ kind: 'blob-start', digest, size: d.size, cached: false });
    for (let attempt = 1; ; attempt++) {
      try {
        // The registry client's stream checks digest and size itself (registry/blob.ts).
        await cache.put(digest, d.size, await client!.openBlob(ref, d, signalOpt), {
          subject,
          onProgress,
          sourceVerifies: true,
          ...signalOpt,
        });
        break;
      } catch (err) {
        if (isLkvolError(err, 'LKVOL_REGISTRY_NOT_FOUND') && (d.urls?.length ?? 0) > 0)
          throw urlsOnlyError(ref, d, err);
        if (
          attempt >= downloadAttempts ||
          !(err instanceof RegistryError) ||
          !err.temporary ||
          o.signal?.aborted === true
        )
          throw err;
      }
    }
    o.onEvent({ kind: 'blob-done', digest, size: d.size, cached: false });
  });
}

/**
 * A blob the registry does not have but whose descriptor names `urls`: a foreign or non-distributable layer
 * published only at those URLs. lkvol reads blobs from registries and mirrors only (their auth, TLS and
 * cache rules), so it refuses the layer and says why, rather than report a plain "not found".
 */
function urlsOnlyError(ref: NormalizedRef, d: Descriptor, cause: unknown): LkvolError {
  const urls = (d.urls ?? []).map((u) => redactUrl(u)).join(', ');
  return new LkvolError(
    'LKVOL_UNSUPPORTED_MEDIA_TYPE',
    `pull ${formatReference(ref)}: layer ${d.digest} (${d.mediaType}) is not on the registry, only at its urls (${urls}); lkvol does not download from urls`,
    {
      cause,
      hint: 'copy the image into a registry with its non-distributable layers included, or use an image without them',
    },
  );
}

/**
 * The registry client of an online session: credentials, TLS, mirrors, proxies; mirror fallbacks become warning events.
 */
async function createClient(o: PullSessionOptions): Promise<RegistryClient> {
  const mirrors = (o.mirrors ?? []).map(parseMirror);
  const onWarning = (w: CredentialWarning | MirrorWarning) => o.onEvent({ kind: 'warning', ...w });
  const credentials = await loadCredentials({
    files: [o.dockerConfigPath, ...o.authFiles],
    helperEnv: o.env,
    onWarning,
    signal: o.signal,
  });
  return createRegistryClient({
    credentials,
    insecureRegistries: o.insecureRegistries,
    caCertFiles: o.caCertFiles,
    extraCaCerts: o.extraCaCerts,
    certsDirs: o.certsDirs,
    userAgent: o.userAgent,
    mirrors,
    proxy: o.proxy,
    retry: o.retry,
    onWarning,
  });
}
