// Table tests for the layer checks made before an image is unpacked: media types and diff_ids one for one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLkvolError, type ErrorCode } from '../errors.js';
import { checkImageLayers } from './layers.js';
import { mediaTypes as mt } from './media-types.js';
import type { ImageConfig, Manifest } from './schema.js';

const digest = (c: string) => `sha256:${c.repeat(64)}` as Manifest['layers'][number]['digest'];
const layer = (mediaType: string, c = 'a') => ({ mediaType, digest: digest(c), size: 10 });
const manifest = (...layers: ReturnType<typeof layer>[]): Manifest => ({
  schemaVersion: 2,
  mediaType: mt.ociManifest,
  config: layer(mt.ociConfig, 'c'),
  layers,
});
const config = (diffIds: number): ImageConfig => ({
  os: 'linux',
  architecture: 'amd64',
  config: undefined,
  rootfs: { type: 'layers', diff_ids: Array.from({ length: diffIds }, (_, i) => digest(String(i))) },
});

const accepted = [
  mt.ociLayer,
  mt.ociLayerGzip,
  mt.ociLayerZstd,
  mt.ociLayerNondistributable,
  mt.ociLayerNondistributableGzip,
  mt.ociLayerNondistributableZstd,
  mt.dockerLayer,
  mt.dockerLayerGzip,
  mt.dockerForeignLayerGzip,
];
for (const type of accepted) {
  test(`a ${type} layer with its diff_id is accepted`, () => {
    checkImageLayers(manifest(layer(type)), config(1), 'image x');
  });
}

const refused: {
  name: string;
  manifest: Manifest;
  config: ImageConfig;
  want: { code: ErrorCode; mentions: string[] };
}[] = [
  {
    name: 'an unknown layer media type is refused naming the layer and the type',
    manifest: manifest(layer(mt.ociLayerGzip), layer('application/vnd.example.blob', 'b')),
    config: config(2),
    want: {
      code: 'LKVOL_UNSUPPORTED_MEDIA_TYPE',
      mentions: ['image x', digest('b'), '"application/vnd.example.blob"'],
    },
  },
  // NB: a config or manifest type in the layers list is no layer either.
  {
    name: 'an image config listed as a layer is refused',
    manifest: manifest(layer(mt.ociConfig)),
    config: config(1),
    want: { code: 'LKVOL_UNSUPPORTED_MEDIA_TYPE', mentions: [mt.ociConfig] },
  },
  {
    name: 'an encrypted layer is refused',
    manifest: manifest(layer('application/vnd.oci.image.layer.v1.tar+gzip+encrypted')),
    config: config(1),
    want: { code: 'LKVOL_UNSUPPORTED_MEDIA_TYPE', mentions: ['+encrypted'] },
  },
  {
    name: 'fewer diff_ids than layers are refused',
    manifest: manifest(layer(mt.ociLayerGzip), layer(mt.ociLayerGzip, 'b')),
    config: config(1),
    want: { code: 'LKVOL_REGISTRY_PROTOCOL', mentions: ['image x', '1 diff_id for 2 layers'] },
  },
  {
    name: 'no diff_ids for a layer are refused',
    manifest: manifest(layer(mt.ociLayerGzip)),
    config: config(0),
    want: { code: 'LKVOL_REGISTRY_PROTOCOL', mentions: ['0 diff_ids for 1 layer;'] },
  },
  {
    name: 'more diff_ids than layers are refused',
    manifest: manifest(layer(mt.ociLayerGzip)),
    config: config(3),
    want: { code: 'LKVOL_REGISTRY_PROTOCOL', mentions: ['3 diff_ids for 1 layer;'] },
  },
];
for (const c of refused) {
  test(c.name, () => {
    assert.throws(
      () => checkImageLayers(c.manifest, c.config, 'image x'),
      (e: unknown) => isLkvolError(e, c.want.code) && c.want.mentions.every((m) => e.message.includes(m)),
    );
  });
}

test('an image without layers and without diff_ids is accepted (an empty volume)', () => {
  checkImageLayers(manifest(), config(0), 'image x');
});
