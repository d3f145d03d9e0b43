// Whether an image's layers can be unpacked and verified: known tar media types, one diff_id per layer.
import { LkvolError } from '../errors.js';
import { isLayerMediaType } from './media-types.js';
import type { ImageConfig, Manifest } from './schema.js';

/**
 * Refuses an image lkvol cannot unpack layer by layer with every layer checked: a layer whose media type
 * is not a tar layer (OCI tar, +gzip, +zstd, Docker schema2, or their non-distributable/foreign
 * variants), or a config whose `rootfs.diff_ids` ("layer content hashes, in order from first to last",
 * image-spec `config.md`) do not match the manifest's layers one for one. Pure: call it before any layer
 * is fetched. `subject` names the image.
 * @throws LKVOL_UNSUPPORTED_MEDIA_TYPE naming the layer and its type; LKVOL_REGISTRY_PROTOCOL for a diff_ids count that
 * differs.
 * @see https://github.com/opencontainers/image-spec/blob/main/config.md#properties
 */
export function checkImageLayers(manifest: Manifest, config: ImageConfig, subject: string): void {
  for (const layer of manifest.layers) {
    if (!isLayerMediaType(layer.mediaType)) {
      throw new LkvolError(
        'LKVOL_UNSUPPORTED_MEDIA_TYPE',
        `${subject}: layer ${layer.digest} has media type ${JSON.stringify(layer.mediaType)}, which is not a tar layer lkvol unpacks`,
        {
          hint: 'lkvol unpacks OCI and Docker tar layers (plain, gzip or zstd); use format: oci to copy the image as it is',
        },
      );
    }
  }
  const diffIds = config.rootfs.diff_ids.length;
  const layers = manifest.layers.length;
  if (diffIds !== layers) {
    // Extracting would leave some layer unverified (too few) or the image ambiguous (too many).
    throw new LkvolError(
      'LKVOL_REGISTRY_PROTOCOL',
      `${subject}: the config lists ${count(diffIds, 'diff_id')} for ${count(layers, 'layer')}; each layer needs exactly one`,
      {
        hint: 'the image config and manifest disagree; rebuild and push the image',
      },
    );
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
