// Media types of OCI and Docker schema2 documents and blobs, and predicates over them.

/**
 * Every media type lkvol knows (image-spec `media-types.md`; Docker `manifest-v2-2.md`).
 * See https://github.com/opencontainers/image-spec/blob/main/media-types.md
 */
export const mediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export type KnownMediaType = (typeof mediaTypes)[keyof typeof mediaTypes];

const indexTypes: ReadonlySet<string> = new Set([mediaTypes.ociIndex, mediaTypes.dockerManifestList]);
const manifestTypes: ReadonlySet<string> = new Set([mediaTypes.ociManifest, mediaTypes.dockerManifest]);
const configTypes: ReadonlySet<string> = new Set([mediaTypes.ociConfig, mediaTypes.dockerConfig]);
const schema1Types: ReadonlySet<string> = new Set([mediaTypes.dockerSchema1, mediaTypes.dockerSchema1Signed]);
const layerTypes: ReadonlySet<string> = new Set([
  mediaTypes.ociLayer,
  mediaTypes.ociLayerGzip,
  mediaTypes.ociLayerZstd,
  mediaTypes.ociLayerNondistributable,
  mediaTypes.ociLayerNondistributableGzip,
  mediaTypes.ociLayerNondistributableZstd,
  mediaTypes.dockerLayer,
  mediaTypes.dockerLayerGzip,
  mediaTypes.dockerForeignLayerGzip,
]);

/**
 * The `Accept` header for manifest requests: indexes and manifests of both families, OCI first.
 * Schema1 is deliberately absent so registries that can convert do so.
 */
export const manifestAccept: readonly string[] = [
  mediaTypes.ociIndex,
  mediaTypes.dockerManifestList,
  mediaTypes.ociManifest,
  mediaTypes.dockerManifest,
];

/** True for an OCI index or a Docker manifest list. */
export function isIndexMediaType(mediaType: string): boolean {
  return indexTypes.has(mediaType);
}

/** True for an OCI image manifest or a Docker schema2 manifest. */
export function isManifestMediaType(mediaType: string): boolean {
  return manifestTypes.has(mediaType);
}

/** True for an OCI or Docker image config. */
export function isConfigMediaType(mediaType: string): boolean {
  return configTypes.has(mediaType);
}

/** True for any tar layer type, compressed or not, distributable or not. */
export function isLayerMediaType(mediaType: string): boolean {
  return layerTypes.has(mediaType);
}

/** True for the deprecated Docker schema1 manifest types, which lkvol refuses. */
export function isSchema1MediaType(mediaType: string): boolean {
  return schema1Types.has(mediaType);
}

/** The media type without parameters, lowercased: `application/json; charset=utf-8` → `application/json`. */
export function baseMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}
