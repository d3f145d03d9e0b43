// `inspect`: what an image reference names — digest, platforms, the chosen manifest's layers and a config summary.
import { parseReference, formatReference } from '../ref/index.js';
import { formatPlatform, listPlatformEntries, parsePlatform } from '../oci/index.js';
import type { ContainerConfig } from '../oci/index.js';
import type { ResolvedImage } from '../registry/index.js';
import { resolveCwd, resolvePaths, resolveRegistryOptions, type PullOptions } from './options.js';
import { createPullSession } from './session.js';

/** The pull options, plus the image. */
export type InspectOptions = PullOptions & {
  /** The image reference, as in a system file. */
  image: string;
};

/** A descriptor as shown by inspect. */
export interface InspectedBlob {
  digest: string;
  size: number;
  mediaType: string;
}

/** What `inspectImage` found; `platforms` is null unless the reference names an index. */
export interface InspectResult {
  reference: string;
  digest: string;
  mediaType: string;
  platforms: string[] | null;
  platform: string;
  manifest: InspectedBlob;
  config: {
    digest: string;
    size: number;
    os: string | null;
    architecture: string | null;
    variant: string | null;
    user: string | null;
    entrypoint: string[] | null;
    cmd: string[] | null;
    env: string[] | null;
    workingDir: string | null;
    labels: Record<string, string>;
  };
  layers: InspectedBlob[];
}

/**
 * Resolves `image` for `platform` through the cache (so `offline` works) and summarises it.
 * @throws LKVOL_REF_INVALID, LKVOL_USAGE (platform, flags), LKVOL_PLATFORM_NOT_FOUND (listing the platforms),
 * LKVOL_REGISTRY_*, LKVOL_UNSUPPORTED_MEDIA_TYPE, LKVOL_DIGEST_MISMATCH, LKVOL_IO, LKVOL_CANCELLED.
 */
export async function inspectImage(o: InspectOptions): Promise<InspectResult> {
  const registry = resolveRegistryOptions('inspect', o);
  const paths = resolvePaths(resolveCwd(o.cwd), o);
  const ref = parseReference(o.image);
  const platform = parsePlatform(o.platform);
  const session = await createPullSession({ ...o, ...registry, ...paths, platform, jobs: 1, signal: o.signal });
  try {
    return summarize(await session.resolve(ref));
  } finally {
    await session.close();
  }
}

function summarize(image: ResolvedImage): InspectResult {
  const c: Partial<ContainerConfig> = image.config.config ?? {};
  const blob = (d: InspectedBlob): InspectedBlob => ({ digest: d.digest, size: d.size, mediaType: d.mediaType });
  return {
    reference: formatReference(image.ref),
    digest: image.digest,
    mediaType: image.mediaType,
    platforms:
      image.index === undefined
        ? null
        : [...new Set(listPlatformEntries(image.index).map((e) => formatPlatform(e.platform)))],
    platform: formatPlatform(image.platform),
    manifest: { digest: image.manifestDigest, size: image.manifestBytes.length, mediaType: image.manifestMediaType },
    config: {
      digest: image.configDigest,
      size: image.configBytes.length,
      os: image.config.os ?? null,
      architecture: image.config.architecture ?? null,
      variant: image.config.variant ?? null,
      user: c.User ?? null,
      entrypoint: c.Entrypoint ?? null,
      cmd: c.Cmd ?? null,
      env: c.Env ?? null,
      workingDir: c.WorkingDir ?? null,
      labels: c.Labels ?? {},
    },
    layers: image.manifest.layers.map(blob),
  };
}
