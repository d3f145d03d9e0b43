// Pushes a cached image (blob files) to the bench registry: layers streamed, then config and manifest.
import { join } from 'node:path';
import { pushBlob, pushBlobFile, pushManifest, type PushTarget } from '../push.js';
import type { CachedImage } from './image-cache.js';

const manifestType = 'application/vnd.oci.image.manifest.v1+json';

/** The OCI name of the host's architecture, which is also lkvol's default platform. */
export function hostArchitecture(): string {
  const names: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
  };
  return names[process.arch] ?? process.arch;
}

/** Pushes every layer of `image`, an image config with its diff_ids and an OCI manifest tagged `tag`. */
export async function pushCachedImage(target: PushTarget & { tag: string }, image: CachedImage): Promise<void> {
  for (const layer of image.layers)
    await pushBlobFile(target, { path: join(image.dir, layer.file), digest: layer.digest, size: layer.size });
  const config = Buffer.from(
    JSON.stringify({
      created: '1970-01-01T00:00:00Z',
      architecture: hostArchitecture(),
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: image.layers.map((l) => l.diffId) },
    }),
  );
  const configDigest = await pushBlob(target, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: manifestType,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: image.layers.map((l) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: l.digest,
      size: l.size,
    })),
  };
  await pushManifest({ ...target, reference: target.tag }, Buffer.from(JSON.stringify(manifest)), manifestType);
}
