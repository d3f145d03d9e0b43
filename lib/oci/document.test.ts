// Table tests for deciding and validating manifest, index and config documents.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkImageManifest, parseImageConfig, parseManifestDocument } from './document.js';
import { mediaTypes as mt } from './media-types.js';

const d1 = `sha256:${'a'.repeat(64)}`;
const d2 = `sha256:${'b'.repeat(64)}`;
const desc = (mediaType: string, digest = d1) => ({ mediaType, digest, size: 10 });
const manifest = (extra: object = {}) => ({
  schemaVersion: 2,
  mediaType: mt.ociManifest,
  config: desc(mt.ociConfig),
  layers: [desc(mt.ociLayerGzip, d2)],
  ...extra,
});
const index = (extra: object = {}) => ({
  schemaVersion: 2,
  mediaType: mt.ociIndex,
  manifests: [{ ...desc(mt.ociManifest), platform: { os: 'linux', architecture: 'amd64' } }],
  ...extra,
});
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

const cases: { name: string; body: Buffer; contentType?: string; want: string }[] = [
  {
    name: 'OCI manifest with matching Content-Type',
    body: json(manifest()),
    contentType: mt.ociManifest,
    want: 'manifest',
  },
  { name: 'OCI index with matching Content-Type', body: json(index()), contentType: mt.ociIndex, want: 'index' },
  {
    name: 'Docker schema2 manifest',
    body: json(manifest({ mediaType: mt.dockerManifest })),
    contentType: mt.dockerManifest,
    want: 'manifest',
  },
  {
    name: 'Docker manifest list',
    body: json(index({ mediaType: mt.dockerManifestList })),
    contentType: mt.dockerManifestList,
    want: 'index',
  },
  {
    name: 'Content-Type parameters are ignored',
    body: json(manifest()),
    contentType: `${mt.ociManifest}; charset=utf-8`,
    want: 'manifest',
  },
  {
    name: 'generic Content-Type defers to the body mediaType',
    body: json(index()),
    contentType: 'application/json',
    want: 'index',
  },
  {
    name: 'no mediaType in the body uses the Content-Type',
    body: json(manifest({ mediaType: undefined })),
    contentType: mt.dockerManifest,
    want: 'manifest',
  },
  // NB: old OCI documents may omit mediaType everywhere; the shape decides.
  { name: 'no mediaType anywhere: an index by its shape', body: json(index({ mediaType: undefined })), want: 'index' },
  {
    name: 'mediaType disagreeing with Content-Type is refused',
    body: json(manifest()),
    contentType: mt.ociIndex,
    want: 'LKVOL_REGISTRY_PROTOCOL',
  },
  {
    name: 'a document that is both manifest and index is refused',
    body: json({ ...index(), layers: [], config: desc(mt.ociConfig) }),
    contentType: mt.ociIndex,
    want: 'LKVOL_REGISTRY_PROTOCOL',
  },
  {
    name: 'schema1 by Content-Type is refused',
    body: json({ schemaVersion: 1, name: 'x', fsLayers: [] }),
    contentType: mt.dockerSchema1Signed,
    want: 'LKVOL_UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'schema1 by schemaVersion is refused',
    body: json({ schemaVersion: 1, name: 'x', fsLayers: [] }),
    contentType: 'application/json',
    want: 'LKVOL_UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'an unknown media type is refused',
    body: json({ schemaVersion: 2, mediaType: 'application/vnd.example+json' }),
    want: 'LKVOL_UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'invalid JSON is a protocol error',
    body: Buffer.from('{"schemaVersion":'),
    contentType: mt.ociManifest,
    want: 'LKVOL_REGISTRY_PROTOCOL',
  },
  {
    name: 'a JSON array is a protocol error',
    body: json([manifest()]),
    contentType: mt.ociManifest,
    want: 'LKVOL_REGISTRY_PROTOCOL',
  },
  {
    name: 'an upper-case digest in a layer is refused',
    body: json(manifest({ layers: [desc(mt.ociLayerGzip, d2.toUpperCase())] })),
    want: 'LKVOL_REGISTRY_PROTOCOL',
  },
  {
    name: 'a path-like digest in an index is refused',
    body: json(index({ manifests: [desc(mt.ociManifest, 'sha256:../../etc/passwd')] })),
    want: 'LKVOL_REGISTRY_PROTOCOL',
  },
  {
    name: 'a negative size is refused',
    body: json(manifest({ config: { ...desc(mt.ociConfig), size: -1 } })),
    want: 'LKVOL_REGISTRY_PROTOCOL',
  },
  { name: 'schemaVersion 3 is refused', body: json(manifest({ schemaVersion: 3 })), want: 'LKVOL_REGISTRY_PROTOCOL' },
];
for (const c of cases) {
  test(`parseManifestDocument: ${c.name}`, () => {
    const run = () => parseManifestDocument(c.body, { contentType: c.contentType, subject: 'pull r/x:1: manifest' });
    if (c.want.startsWith('LKVOL_')) {
      assert.throws(run, (err: unknown) => {
        assert.equal((err as { code?: string }).code, c.want);
        assert.match((err as Error).message, /^pull r\/x:1: manifest: /);
        return true;
      });
    } else {
      assert.equal(run().kind, c.want);
    }
  });
}

test('parseManifestDocument: the invalid field is named in the message', () => {
  const body = json(manifest({ layers: [desc(mt.ociLayerGzip, 'sha256:xyz')] }));
  assert.throws(
    () => parseManifestDocument(body, { subject: 's' }),
    /s: invalid document: layers\[0\]\.digest: must be sha256:/,
  );
});

test('parseManifestDocument: unknown fields are kept for re-serialisation', () => {
  const doc = parseManifestDocument(json(index({ annotations: { a: 'b' }, extra: 1 })), { subject: 's' });
  assert.equal(doc.kind, 'index');
  assert.deepEqual((doc as { index: Record<string, unknown> }).index.extra, 1);
});

test('checkImageManifest: an artifact config is an unsupported media type', () => {
  const m = parseManifestDocument(json(manifest({ config: desc('application/vnd.cncf.helm.config.v1+json') })), {
    subject: 's',
  });
  assert.equal(m.kind, 'manifest');
  if (m.kind === 'manifest')
    assert.throws(() => checkImageManifest(m.manifest, 's'), { code: 'LKVOL_UNSUPPORTED_MEDIA_TYPE' });
});

test('parseImageConfig: Docker nulls read as absent and fields survive', () => {
  const cfg = parseImageConfig(
    json({
      architecture: 'arm64',
      os: 'linux',
      variant: 'v8',
      config: { Env: ['A=1'], Entrypoint: null, Cmd: ['sh'], WorkingDir: '/w', Labels: null, User: '1000' },
      rootfs: { type: 'layers', diff_ids: [d1] },
    }),
    { subject: 'config' },
  );
  assert.deepEqual(cfg.config?.Env, ['A=1']);
  assert.equal(cfg.config?.Entrypoint, undefined);
  assert.equal(cfg.config?.Labels, undefined);
  assert.deepEqual(cfg.rootfs.diff_ids, [d1]);
  assert.equal(cfg.variant, 'v8');
});

test('parseImageConfig: a config without rootfs is a protocol error', () => {
  assert.throws(() => parseImageConfig(json({ os: 'linux' }), { subject: 'config' }), {
    code: 'LKVOL_REGISTRY_PROTOCOL',
  });
});
