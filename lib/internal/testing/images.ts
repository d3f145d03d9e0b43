// Test helper: images made of tar entries, pushed to a test registry in one call.
import { buildTar, gzip, type TarEntry } from './tar.js';
import { pushImage, pushIndex, sha256, type ImageFormat, type PushAuth, type PushedImage } from './push.js';

export interface TarImageOptions {
  registry: string;
  repository: string;
  tag: string;
  /** Layers bottom first, each a list of tar entries. */
  layers: readonly (readonly TarEntry[])[];
  format?: ImageFormat;
  /** The `config` part of the image config (Env, Cmd, Labels …). */
  config?: Record<string, unknown>;
  architecture?: string;
  variant?: string;
  auth?: PushAuth;
  /** Push layers uncompressed instead of gzip. */
  uncompressed?: boolean;
}

/** Builds each layer with buildTar, gzips it and pushes the image. */
export async function pushTarImage(o: TarImageOptions): Promise<PushedImage> {
  const format = o.format ?? 'oci';
  const layers = [];
  for (const entries of o.layers) {
    const tar = await buildTar(entries);
    const mediaType =
      o.uncompressed === true
        ? format === 'oci'
          ? 'application/vnd.oci.image.layer.v1.tar'
          : 'application/vnd.docker.image.rootfs.diff.tar'
        : undefined;
    layers.push({
      data: o.uncompressed === true ? tar : gzip(tar),
      diffId: sha256(tar),
      ...(mediaType === undefined ? {} : { mediaType }),
    });
  }
  const config: Record<string, unknown> = { architecture: o.architecture ?? 'amd64', config: o.config ?? {} };
  if (o.variant !== undefined) config['variant'] = o.variant;
  return pushImage({
    registry: o.registry,
    repository: o.repository,
    tag: o.tag,
    layers,
    format,
    config,
    auth: o.auth,
  });
}

/** Pushes one single-layer image per architecture (a file `arch` holding its name) and an index over them. */
export async function pushMultiPlatform(o: {
  registry: string;
  repository: string;
  tag: string;
  architectures: string[];
  format?: ImageFormat;
}): Promise<{ digest: string }> {
  const format = o.format ?? 'oci';
  const manifests = [];
  for (const arch of o.architectures) {
    const image = await pushTarImage({
      registry: o.registry,
      repository: o.repository,
      tag: `${o.tag}-${arch}`,
      layers: [[{ name: 'arch', content: `${arch}\n` }]],
      architecture: arch,
      format,
    });
    manifests.push({
      digest: image.manifestDigest,
      size: image.manifestSize,
      mediaType: image.manifestMediaType,
      platform: { os: 'linux', architecture: arch },
    });
  }
  return pushIndex({ registry: o.registry, repository: o.repository, tag: o.tag, manifests, format });
}
