// Chooses the manifest of an index for a platform, skipping attestations and unknown media types.
import { LkvolError } from '../errors.js';
import { isIndexMediaType, isManifestMediaType } from './media-types.js';
import {
  formatPlatform,
  matchesPlatform,
  normalizePlatform,
  parsePlatform,
  rankPlatform,
  type Platform,
} from './platform.js';
import type { Descriptor, Index } from './schema.js';

/** The entry chosen by `selectManifest`. */
export interface SelectedManifest {
  readonly descriptor: Descriptor;
  /** The entry's normalised platform. */
  readonly platform: Platform;
  /** False when only a compatible older variant was found (e.g. `arm/v6` for `arm/v7`). */
  readonly exact: boolean;
}

/** Buildx marks attestation manifests with this annotation (and platform `unknown/unknown`). */
const referenceTypeAnnotation = 'vnd.docker.reference.type';

/**
 * The index entries that name a runnable image: known manifest or index media type, a platform, and
 * neither an attestation annotation nor `unknown/unknown`. Unknown media types are skipped, not errors
 * (image-spec `image-index.md`).
 */
export function listPlatformEntries(index: Index): { descriptor: Descriptor; platform: Platform }[] {
  const out: { descriptor: Descriptor; platform: Platform }[] = [];
  for (const descriptor of index.manifests) {
    if (!isManifestMediaType(descriptor.mediaType) && !isIndexMediaType(descriptor.mediaType)) continue;
    if (descriptor.annotations?.[referenceTypeAnnotation] !== undefined) continue;
    const p = descriptor.platform;
    if (p === undefined || p.os === 'unknown' || p.architecture === 'unknown') continue;
    out.push({ descriptor, platform: normalizePlatform(p) });
  }
  return out;
}

/**
 * Picks the entry for `platform`: an exact match first, else the closest compatible older variant;
 * among equals the first in index order wins (image-spec `image-index.md`).
 * @throws LKVOL_PLATFORM_NOT_FOUND listing the platforms the index has.
 */
export function selectManifest(index: Index, platform: Platform, opts: { subject?: string } = {}): SelectedManifest {
  const want = normalizePlatform(platform);
  let best: { descriptor: Descriptor; platform: Platform; rank: number } | undefined;
  const entries = listPlatformEntries(index);
  for (const entry of entries) {
    const rank = rankPlatform(want, entry.platform);
    if (rank !== undefined && (best === undefined || rank < best.rank)) best = { ...entry, rank };
  }
  if (best === undefined) throw platformNotFound(want, entries, opts.subject);
  return { descriptor: best.descriptor, platform: best.platform, exact: best.rank === 0 };
}

function platformNotFound(want: Platform, entries: { platform: Platform }[], subject: string | undefined): LkvolError {
  const have = [...new Set(entries.map((e) => formatPlatform(e.platform)))];
  const listed = have.length === 0 ? 'the index lists no platform images' : `the index has ${have.join(', ')}`;
  const prefix = subject === undefined ? '' : `${subject}: `;
  return new LkvolError('LKVOL_PLATFORM_NOT_FOUND', `${prefix}no manifest for ${formatPlatform(want)}: ${listed}`, {
    hint:
      have.length === 0
        ? 'the image has no runnable platform; use another image'
        : `choose one of ${have.join(', ')} with --platform`,
  });
}

/**
 * The entries of an index a `format: oci` volume keeps: those matching one of the `requested` platforms
 * (all entries when none are requested), where a platform without a variant matches every variant.
 * @throws LKVOL_PLATFORM_NOT_FOUND naming a requested platform the index lacks and what it has.
 */
export function selectPlatformEntries(index: Index, requested: string[] | undefined, subject: string): Descriptor[] {
  if (requested === undefined || requested.length === 0) return index.manifests;
  const wants: Platform[] = requested.map((p) => parsePlatform(p));
  const available = index.manifests.filter((m) => m.platform !== undefined && !isIndexMediaType(m.mediaType));
  const selected = available.filter((m) => wants.some((w) => matchesPlatform(w, normalizePlatform(m.platform!))));
  for (const w of wants) {
    if (!available.some((m) => matchesPlatform(w, normalizePlatform(m.platform!)))) {
      const have = available.map((m) => formatPlatform(normalizePlatform(m.platform!))).join(', ');
      throw new LkvolError(
        'LKVOL_PLATFORM_NOT_FOUND',
        `${subject}: no manifest for platform ${formatPlatform(w)} (the index has: ${have || 'none'})`,
        { hint: "fix the volume's platforms list" },
      );
    }
  }
  return selected;
}
