// A command's view of images: manifests and configs from the cache first, tags revalidated with HEAD, --offline and
// --pull.
import { Readable } from 'node:stream';
import type { BlobCache } from '../cache/index.js';
import { missingBlobError } from '../cache/index.js';
import { missingTagError, type TagStore } from '../cache/tags.js';
import { parseDigest, type Digest } from '../digest/index.js';
import { isLkvolError, RegistryError } from '../errors.js';
import type { Descriptor } from '../oci/index.js';
import { formatName, formatReference, withDigest, type NormalizedRef } from '../ref/index.js';
import {
  checkManifest,
  nearestTags,
  type BlobOptions,
  type FetchedManifest,
  type ManifestOptions,
  type ManifestSource,
  type RegistryClient,
} from '../registry/index.js';

/**
 * How tags are resolved: `offline` from tag records only; `pull` always with a GET; `revalidate` with a HEAD when a
 * record exists.
 */
export type TagPolicy = 'offline' | 'pull' | 'revalidate';

export interface ImageSourceOptions {
  /** Undefined under --offline: nothing may touch the network. */
  client: RegistryClient | undefined;
  cache: BlobCache;
  tags: TagStore;
  policy: TagPolicy;
  signal: AbortSignal | undefined;
}

/**
 * A ManifestSource over the cache: every manifest and config fetched is stored as a blob and every tag
 * resolved gets a record, so a later `--offline` build can resolve without a registry. Without `pull`, a
 * tag with a record is revalidated with a HEAD (which Docker Hub does not count as a pull) and its
 * cached manifest reused when the digest is unchanged.
 * @throws LKVOL_REGISTRY_UNAVAILABLE under --offline naming the missing tag or blob; whatever the registry throws;
 * LKVOL_IO.
 */
export function createImageSource(options: ImageSourceOptions): ManifestSource {
  const o = options.policy === 'offline' ? { ...options, client: undefined } : options;
  return {
    fetchManifest: (ref, opts = {}) =>
      ref.digest === undefined ? manifestByTag(o, ref, opts) : manifestByDigest(o, ref, opts),
    fetchBlobBytes: (ref, d, opts = {}) => blobBytes(o, ref, d, opts),
  };
}

const signalOf = (o: ImageSourceOptions) => (o.signal === undefined ? {} : { signal: o.signal });

/** The cached bytes of `digest`, verified; a corrupt entry is removed and reported as absent. */
async function readCached(
  o: ImageSourceOptions,
  digest: Digest,
  size: number | undefined,
  subject: string,
): Promise<Buffer | undefined> {
  if (!(await o.cache.has(digest))) return undefined;
  try {
    const chunks: Buffer[] = [];
    for await (const c of o.cache.open(digest, size, subject)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  } catch (err) {
    if (!isLkvolError(err, 'LKVOL_DIGEST_MISMATCH')) throw err;
    await o.cache.remove(digest);
    return undefined;
  }
}

function store(o: ImageSourceOptions, digest: Digest, bytes: Buffer, subject: string): Promise<void> {
  return o.cache.put(digest, bytes.length, Readable.from([bytes]), { subject, ...signalOf(o) });
}

async function manifestByDigest(
  o: ImageSourceOptions,
  ref: NormalizedRef,
  opts: ManifestOptions,
): Promise<FetchedManifest> {
  const subject = `pull ${formatReference(ref)}`;
  const digest = parseDigest(ref.digest ?? '', `reference ${formatReference(ref)}`);
  const cached = await readCached(o, digest, opts.size, `${subject}: manifest`);
  if (cached !== undefined)
    return checkManifest(cached, { subject, pinned: digest, size: opts.size, contentType: opts.mediaType });
  if (o.client === undefined) throw missingBlobError(digest, `${subject}: manifest`);
  const fetched = await o.client.fetchManifest(ref, { ...opts, ...signalOf(o) }).catch(async (err: unknown) => {
    throw await explainMissingTag(o.client!, ref, err, signalOf(o));
  });
  await store(o, fetched.digest, fetched.bytes, `${subject}: manifest`);
  return fetched;
}

async function manifestByTag(
  o: ImageSourceOptions,
  ref: NormalizedRef,
  opts: ManifestOptions,
): Promise<FetchedManifest> {
  const key = formatReference(ref);
  const record = o.policy === 'pull' ? undefined : await o.tags.get(key);
  if (o.client === undefined) {
    if (record === undefined) throw missingTagError(key, o.cache.dir);
    return manifestByDigest(o, withDigest(ref, record.digest), { mediaType: record.mediaType });
  }
  if (record !== undefined && (await o.cache.has(record.digest))) {
    const head = await o.client.headManifest(ref, signalOf(o));
    if (head.digest === record.digest)
      return manifestByDigest(o, withDigest(ref, record.digest), { mediaType: record.mediaType });
  }
  const fetched = await o.client.fetchManifest(ref, { ...opts, ...signalOf(o) }).catch(async (err: unknown) => {
    throw await explainMissingTag(o.client!, ref, err, signalOf(o));
  });
  await store(o, fetched.digest, fetched.bytes, `pull ${key}: manifest`);
  await o.tags.put({ ref: key, digest: fetched.digest, mediaType: fetched.mediaType });
  return fetched;
}

async function blobBytes(o: ImageSourceOptions, ref: NormalizedRef, d: Descriptor, opts: BlobOptions): Promise<Buffer> {
  const digest = parseDigest(d.digest, `blob of ${formatReference(ref)}`);
  const subject = opts.subject ?? `blob ${digest} of ${formatReference(ref)}`;
  const cached = await readCached(o, digest, d.size, subject);
  if (cached !== undefined) return cached;
  if (o.client === undefined) throw missingBlobError(digest, subject);
  const bytes = await o.client.fetchBlobBytes(ref, d, { ...opts, ...signalOf(o) });
  await store(o, digest, bytes, subject);
  return bytes;
}

/** A tag the registry does not have: say which tags are close, when the registry lets us list them. */
async function explainMissingTag(
  client: RegistryClient,
  ref: NormalizedRef,
  err: unknown,
  opts: { signal?: AbortSignal | undefined },
): Promise<unknown> {
  if (!(err instanceof RegistryError) || err.code !== 'LKVOL_REGISTRY_NOT_FOUND' || ref.tag === undefined) return err;
  const tags = await client.listTags(ref, opts).catch(() => undefined);
  if (tags === undefined)
    return err.explained({
      message: err.message,
      hint: `check the tag; "lkvol inspect ${formatReference(ref)}" shows what a reference names`,
    });
  const close = nearestTags(ref.tag, tags);
  const what =
    tags.length === 0
      ? 'the repository has no tags'
      : `tags there include ${close.map((t) => JSON.stringify(t)).join(', ')}`;
  return err.explained({
    message: `${err.message}; ${what}`,
    hint: `use one of the repository's tags; "lkvol inspect ${formatName(ref)}:TAG" shows what one names`,
  });
}
