// Test helper: writes an OCI image layout (oci-layout, index.json, blobs/sha256/) for one image from layer blobs.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** One layer as stored in the layout. */
export interface LayoutLayer {
  /** The blob as stored (gzip or plain tar). */
  blob: Buffer;
  /** Default: `…tar+gzip` when the blob starts with the gzip magic, else `…tar`. */
  mediaType?: string;
}

/** What {@link writeOciLayout} writes. */
export interface LayoutImage {
  layers: readonly LayoutLayer[];
  /** Tag recorded as `org.opencontainers.image.ref.name` in index.json. */
  tag: string;
  /** Default `linux`/`amd64`. */
  os?: string;
  architecture?: string;
  /** Extra image config (`config` section: Env, Cmd, Labels, …). */
  config?: Record<string, unknown>;
}

/** Digests of what was written. */
export interface WrittenLayout {
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
  diffIds: string[];
}

const mediaTypes = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  tarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  tar: 'application/vnd.oci.image.layer.v1.tar',
};

/**
 * Writes an OCI image layout of one single-platform image into `dir` (created if needed), as
 * umoci, skopeo and lkvol read it. The config's `rootfs.diff_ids` are computed from the blobs.
 * Output is deterministic (no timestamps, fixed key order).
 */
export async function writeOciLayout(dir: string, image: LayoutImage): Promise<WrittenLayout> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (data: Buffer): Promise<string> => {
    const hex = createHash('sha256').update(data).digest('hex');
    await writeFile(join(dir, 'blobs', 'sha256', hex), data);
    return `sha256:${hex}`;
  };
  const layerDigests: string[] = [];
  const diffIds: string[] = [];
  const descriptors = [];
  for (const layer of image.layers) {
    const gzipped = layer.blob[0] === 0x1f && layer.blob[1] === 0x8b;
    const digest = await put(layer.blob);
    layerDigests.push(digest);
    diffIds.push(
      `sha256:${createHash('sha256')
        .update(gzipped ? gunzipSync(layer.blob) : layer.blob)
        .digest('hex')}`,
    );
    descriptors.push({
      mediaType: layer.mediaType ?? (gzipped ? mediaTypes.tarGzip : mediaTypes.tar),
      digest,
      size: layer.blob.length,
    });
  }
  const config = json({
    architecture: image.architecture ?? 'amd64',
    os: image.os ?? 'linux',
    config: image.config ?? {},
    rootfs: { type: 'layers', diff_ids: diffIds },
  });
  const configDigest = await put(config);
  const manifest = json({
    schemaVersion: 2,
    mediaType: mediaTypes.manifest,
    config: { mediaType: mediaTypes.config, digest: configDigest, size: config.length },
    layers: descriptors,
  });
  const manifestDigest = await put(manifest);
  const index = {
    schemaVersion: 2,
    mediaType: mediaTypes.index,
    manifests: [
      {
        mediaType: mediaTypes.manifest,
        digest: manifestDigest,
        size: manifest.length,
        annotations: { 'org.opencontainers.image.ref.name': image.tag },
      },
    ],
  };
  await writeFile(join(dir, 'index.json'), json(index));
  await writeFile(join(dir, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
  return { manifestDigest, configDigest, layerDigests, diffIds };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}
