// One build's access to images: resolve each reference once, fetch each blob once into the cache.
import type { Readable } from 'node:stream';
import { createBlobCache, type BlobCache } from '../cache/index.js';
import { parseDigest, shortDigest, type Digest } from '../digest/index.js';
import { isLkvolError } from '../errors.js';
import type { EventSink } from '../events.js';
import type { Descriptor, Platform } from '../oci/index.js';
import { formatReference, type NormalizedRef } from '../ref/index.js';
import { createRegistryClient, loadCredentials, type FetchedManifest, type RegistryClient, type ResolvedImage } from '../registry/index.js';
import { createLimiter, createOnce } from './limit.js';

export interface PullSession {
  /** Resolves a reference to its manifest and config for the build platform (memoised per reference). */
  resolve(ref: NormalizedRef): Promise<ResolvedImage>;
  /** Makes sure a blob is in the cache (memoised per digest; at most `jobs` downloads at once). */
  fetchBlob(ref: NormalizedRef, descriptor: Descriptor): Promise<void>;
  /** Opens a cached blob through a verifier; a corrupt one is removed and fetched again once. */
  openBlob(ref: NormalizedRef, descriptor: Descriptor): Promise<Readable>;
  /** Drops a cached blob that turned out corrupt, so the next fetchBlob downloads it again. */
  forgetBlob(descriptor: Descriptor): Promise<void>;
  /** Fetches the manifest or index a reference names, without choosing a platform (`format: oci`). */
  fetchManifest(ref: NormalizedRef, size?: number): Promise<FetchedManifest>;
  /** Closes registry connections. */
  close(): Promise<void>;
  readonly cache: BlobCache;
}

export interface PullSessionOptions {
  cacheDir: string;
  platform: Platform;
  jobs: number;
  insecureRegistries: string[];
  dockerConfigPath: string | undefined;
  authFiles: string[];
  credentialHelperEnv?: Record<string, string | undefined> | undefined;
  caCertFiles: string[];
  certsDirs: string[];
  userAgent: string;
  onEvent: EventSink;
  signal: AbortSignal | undefined;
}

/** Creates the session. Throws LKVOL_IO when the cache or the Docker config cannot be read. */
export async function createPullSession(o: PullSessionOptions): Promise<PullSession> {
  const cache = await createBlobCache({ dir: o.cacheDir });
  const onWarning = (w: { code: string; message: string }) => o.onEvent({ kind: 'warning', ...w });
  const credentials = await loadCredentials({ files: [o.dockerConfigPath, ...o.authFiles], helperEnv: o.credentialHelperEnv, onWarning, signal: o.signal });
  const tls = { caCertFiles: o.caCertFiles, certsDirs: o.certsDirs };
  const client: RegistryClient = createRegistryClient({ credentials, insecureRegistries: o.insecureRegistries, ...tls, userAgent: o.userAgent });
  const limit = createLimiter(o.jobs);
  const resolveOnce = createOnce<ResolvedImage>();
  let fetchOnce = createOnce<void>();
  const signalOpt = o.signal === undefined ? {} : { signal: o.signal };

  const download = async (ref: NormalizedRef, d: Descriptor): Promise<void> => {
    const digest = parseDigest(d.digest, `blob of ${formatReference(ref)}`);
    if (await cache.has(digest)) {
      o.onEvent({ kind: 'blob-done', digest, size: d.size, cached: true });
      return;
    }
    await limit(async () => {
      o.onEvent({ kind: 'blob-start', digest, size: d.size, cached: false });
      const body = await client.openBlob(ref, d, signalOpt);
      const onProgress = (bytes: number) => o.onEvent({ kind: 'blob-progress', digest, bytes, size: d.size });
      await cache.put(digest, d.size, body, { subject: `blob ${shortDigest(digest)} of ${formatReference(ref)}`, onProgress, ...signalOpt });
      o.onEvent({ kind: 'blob-done', digest, size: d.size, cached: false });
    });
  };

  return {
    cache,
    resolve(ref) {
      return resolveOnce(formatReference(ref), async () => {
        const image = await client.resolveImage(ref, { platform: o.platform, ...signalOpt });
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
    fetchManifest(ref, size) {
      return client.fetchManifest(ref, { size, ...signalOpt });
    },
    close() {
      return client.close();
    },
    async forgetBlob(d) {
      await cache.remove(parseDigest(d.digest));
      // A fresh memo table, so the next fetchBlob downloads again instead of reusing the settled promise.
      fetchOnce = createOnce<void>();
    },
  };
}

/** True for an error that a fresh download of the same blob may cure (a corrupted cache entry). */
export function isCorruptBlob(err: unknown): boolean {
  return isLkvolError(err, 'LKVOL_DIGEST_MISMATCH');
}
