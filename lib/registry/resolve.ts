// Resolves a reference to the manifest and config for a platform (SPEC §1.3), through at most two indexes.
import { LkvolError } from '../errors.js';
import type { Digest } from '../digest/index.js';
import {
  checkImageManifest,
  formatPlatform,
  isSamePlatform,
  normalizePlatform,
  parseImageConfig,
  selectManifest,
  type ImageConfig,
  type Index,
  type Manifest,
  type Descriptor,
  type Platform,
} from '../oci/index.js';
import { formatReference, withDigest, type NormalizedRef } from '../ref/index.js';
import type { BlobOptions } from './blob.js';
import type { FetchedManifest, ManifestOptions } from './manifest.js';

/** Where resolution reads documents: a RegistryClient, or the build's cache in front of one. */
export interface ManifestSource {
  fetchManifest(ref: NormalizedRef, opts?: ManifestOptions): Promise<FetchedManifest>;
  fetchBlobBytes(ref: NormalizedRef, descriptor: Descriptor, opts?: BlobOptions): Promise<Buffer>;
}

/** Everything known about an image after resolution. Digests are verified against bytes received. */
export interface ResolvedImage {
  ref: NormalizedRef;
  /** Digest of what the reference named: the index, or the manifest for a single-manifest image. */
  digest: Digest;
  mediaType: string;
  /** The (outermost) index and its exact bytes, when the reference named one. */
  index: Index | undefined;
  indexBytes: Buffer | undefined;
  manifestDigest: Digest;
  manifestMediaType: string;
  manifest: Manifest;
  manifestBytes: Buffer;
  /** The parsed image config, its digest and its exact bytes. */
  config: ImageConfig;
  configDigest: Digest;
  configBytes: Buffer;
  /** The platform used: the index entry's, or the config's for a single manifest. */
  platform: Platform;
  /** Messages for the user (platform fallback or mismatch); the caller emits them as warning events. */
  warnings: string[];
}

const maxIndexDepth = 2;

/**
 * Fetches the reference; for an index, selects the entry for `platform` (exact, else an older
 * compatible variant, with a warning) and fetches it; then fetches the config. A single manifest is
 * used whatever platform its config names, with a warning when it differs (SPEC §1.3). An index may
 * hold an index (one level: image-spec allows nesting); deeper nesting, or an entry naming an index
 * already visited, is LKVOL_REGISTRY_PROTOCOL.
 * @throws LKVOL_PLATFORM_NOT_FOUND, LKVOL_UNSUPPORTED_MEDIA_TYPE, LKVOL_DIGEST_MISMATCH, LKVOL_REGISTRY_*,
 * LKVOL_CANCELLED.
 */
export async function resolveImage(
  client: ManifestSource,
  ref: NormalizedRef,
  opts: { platform: Platform; signal?: AbortSignal | undefined },
): Promise<ResolvedImage> {
  const subject = `pull ${formatReference(ref)}`;
  const want = normalizePlatform(opts.platform);
  const top = await client.fetchManifest(ref, { signal: opts.signal });
  const warnings: string[] = [];
  let current: FetchedManifest = top;
  let chosen: Platform | undefined;
  const seen = new Set<string>();
  for (let depth = 0; current.document.kind === 'index'; depth++) {
    if (depth >= maxIndexDepth)
      throw protocol(`${subject}: indexes nested more than ${maxIndexDepth} deep (index ${current.digest})`);
    seen.add(current.digest);
    const selected = selectManifest(current.document.index, want, { subject });
    if (seen.has(selected.descriptor.digest))
      throw protocol(`${subject}: index ${current.digest} refers to itself or an enclosing index`);
    if (!selected.exact) {
      warnings.push(
        `${subject}: no manifest for ${formatPlatform(want)}; using the compatible ${formatPlatform(selected.platform)}`,
      );
    }
    chosen ??= selected.platform;
    current = await client.fetchManifest(withDigest(ref, selected.descriptor.digest), {
      size: selected.descriptor.size,
      mediaType: selected.descriptor.mediaType,
      signal: opts.signal,
    });
  }
  const manifest = current.document.manifest;
  checkImageManifest(manifest, `${subject}: manifest ${current.digest}`);
  const configSubject = `config ${manifest.config.digest} of ${formatReference(ref)}`;
  const configBytes = await client.fetchBlobBytes(ref, manifest.config, {
    signal: opts.signal,
    subject: configSubject,
  });
  const config = parseImageConfig(configBytes, { subject: configSubject });
  if (chosen === undefined) chosen = singleManifestPlatform(config, want, subject, warnings);
  return {
    ref,
    digest: top.digest,
    mediaType: top.mediaType,
    index: top.document.kind === 'index' ? top.document.index : undefined,
    indexBytes: top.document.kind === 'index' ? top.bytes : undefined,
    manifestDigest: current.digest,
    manifestMediaType: current.mediaType,
    manifest,
    manifestBytes: current.bytes,
    config,
    configDigest: manifest.config.digest,
    configBytes,
    platform: chosen,
    warnings,
  };
}

/** The platform a single-manifest image's config names (the requested one if it names none); warns on a difference. */
function singleManifestPlatform(config: ImageConfig, want: Platform, subject: string, warnings: string[]): Platform {
  if (config.os === undefined || config.architecture === undefined) return want;
  const have = normalizePlatform({ os: config.os, architecture: config.architecture, variant: config.variant });
  if (!isSamePlatform(have, want)) {
    warnings.push(
      `${subject}: the image is a single manifest for ${formatPlatform(have)}, not ${formatPlatform(want)}; using it anyway`,
    );
  }
  return have;
}

function protocol(message: string): LkvolError {
  return new LkvolError('LKVOL_REGISTRY_PROTOCOL', message, {
    hint: 'the image publisher pushed a malformed index; use another tag or digest',
  });
}
