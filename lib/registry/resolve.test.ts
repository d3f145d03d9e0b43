// resolveImage over a fake ManifestSource: index cycles that a verifying, content-addressed registry cannot serve.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestOf, type Digest } from '../digest/index.js';
import { mediaTypes, parseManifestDocument, parsePlatform } from '../oci/index.js';
import { parseReference } from '../ref/index.js';
import { resolveImage, type ManifestSource } from './resolve.js';

const indexOf = (digest: string) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.ociIndex,
      manifests: [
        { mediaType: mediaTypes.ociIndex, digest, size: 2, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }),
  );

/**
 * A source that claims `serve(x)` is the document for tag or digest `x`, unverified (as a broken cache or registry
 * would).
 */
function fakeSource(serve: (key: string) => { digest: Digest; bytes: Buffer }): ManifestSource & { fetched: string[] } {
  const fetched: string[] = [];
  return {
    fetched,
    async fetchManifest(ref) {
      const key = ref.digest ?? 'tag';
      fetched.push(key);
      const { digest, bytes } = serve(key);
      const document = parseManifestDocument(bytes, { subject: 'test' });
      return { digest, mediaType: document.mediaType, bytes, document };
    },
    fetchBlobBytes: () => assert.fail('no config expected'),
  };
}

const a = digestOf('a');
const b = digestOf('b');
const cycleCases = [
  {
    name: 'an index whose entry names the index itself is refused before fetching it again',
    serve: () => ({ digest: a, bytes: indexOf(a) }),
    fetched: ['tag'],
    index: a,
  },
  // NB: the cycle closes at depth 1, inside the depth limit, so only the visited set catches it.
  {
    name: 'an index cycle A → B → A is refused',
    serve: (k: string) => (k === b ? { digest: b, bytes: indexOf(a) } : { digest: a, bytes: indexOf(b) }),
    fetched: ['tag', b],
    index: b,
  },
];
for (const c of cycleCases) {
  test(`resolve: ${c.name}`, async () => {
    const src = fakeSource(c.serve);
    await assert.rejects(
      resolveImage(src, parseReference('r.example/x:1'), { platform: parsePlatform('linux/amd64') }),
      {
        code: 'LKVOL_REGISTRY_PROTOCOL',
        message: `pull r.example/x:1: index ${c.index} refers to itself or an enclosing index`,
      },
    );
    assert.deepEqual(src.fetched, c.fetched);
  });
}
