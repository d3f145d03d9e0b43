// Table tests for choosing a manifest out of an index.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Digest } from '../digest/digest.js';
import { mediaTypes } from './media-types.js';
import { formatPlatform, parsePlatform } from './platform.js';
import type { Descriptor, Index } from './schema.js';
import { listPlatformEntries, selectManifest } from './select.js';

function entry(n: number, platform: string | undefined, extra: Partial<Descriptor> = {}): Descriptor {
  const [os, architecture, variant] = (platform ?? '').split('/');
  const d: Descriptor = {
    mediaType: mediaTypes.ociManifest,
    digest: `sha256:${String(n).repeat(64).slice(0, 64)}` as Digest,
    size: 100 + n,
    ...extra,
  };
  if (platform !== undefined)
    d.platform =
      variant === undefined
        ? { os: os!, architecture: architecture! }
        : { os: os!, architecture: architecture!, variant };
  return d;
}

function indexOf(...manifests: Descriptor[]): Index {
  return { schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests };
}

const attestation = {
  annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': 'sha256:x' },
};

const cases = [
  {
    name: 'exact match is chosen',
    index: indexOf(entry(1, 'linux/amd64'), entry(2, 'linux/arm64')),
    want: 'linux/arm64',
    size: 102,
    exact: true,
  },
  {
    name: 'arm64/v8 in the index matches a plain arm64 request',
    index: indexOf(entry(1, 'linux/amd64'), entry(2, 'linux/arm64/v8')),
    want: 'linux/arm64',
    size: 102,
    exact: true,
  },
  {
    name: 'the first of two equal entries wins',
    index: indexOf(entry(1, 'linux/amd64'), entry(2, 'linux/amd64')),
    want: 'linux/amd64',
    size: 101,
    exact: true,
  },
  {
    name: 'exact beats an earlier compatible entry',
    index: indexOf(entry(1, 'linux/arm/v6'), entry(2, 'linux/arm/v7')),
    want: 'linux/arm/v7',
    size: 102,
    exact: true,
  },
  {
    name: 'an older variant is the fallback',
    index: indexOf(entry(1, 'linux/arm/v5'), entry(2, 'linux/arm/v6')),
    want: 'linux/arm/v7',
    size: 102,
    exact: false,
  },
  {
    name: 'attestation entries are skipped even with a matching platform',
    index: indexOf(entry(1, 'linux/amd64', attestation), entry(2, 'linux/amd64')),
    want: 'linux/amd64',
    size: 102,
    exact: true,
  },
  {
    name: 'unknown media types are skipped, not errors',
    index: indexOf(entry(1, 'linux/amd64', { mediaType: 'application/vnd.example.thing' }), entry(2, 'linux/amd64')),
    want: 'linux/amd64',
    size: 102,
    exact: true,
  },
  {
    name: 'a nested index entry can be selected',
    index: indexOf(entry(1, 'linux/amd64', { mediaType: mediaTypes.dockerManifestList })),
    want: 'linux/amd64',
    size: 101,
    exact: true,
  },
];
for (const c of cases) {
  test(`selectManifest: ${c.name}`, () => {
    const got = selectManifest(c.index, parsePlatform(c.want));
    assert.equal(got.descriptor.size, c.size);
    assert.equal(got.exact, c.exact);
  });
}

test('selectManifest: a missing platform lists the platforms the index has', () => {
  const index = indexOf(
    entry(1, 'linux/amd64'),
    entry(2, 'linux/arm64/v8'),
    entry(3, 'unknown/unknown', attestation),
    entry(4, undefined),
  );
  assert.throws(
    () => selectManifest(index, parsePlatform('linux/s390x'), { subject: 'pull 127.0.0.1:5000/x/y:1' }),
    (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'LKVOL_PLATFORM_NOT_FOUND');
      assert.equal(
        (err as Error).message,
        'pull 127.0.0.1:5000/x/y:1: no manifest for linux/s390x: the index has linux/amd64, linux/arm64',
      );
      assert.match((err as { hint?: string }).hint ?? '', /--platform/);
      return true;
    },
  );
});

test('selectManifest: an index of attestations only says it has no platform images', () => {
  assert.throws(
    () => selectManifest(indexOf(entry(1, 'unknown/unknown')), parsePlatform('linux/amd64')),
    /the index lists no platform images/,
  );
});

test('listPlatformEntries: normalises the platforms of the usable entries only', () => {
  const index = indexOf(entry(1, 'linux/aarch64'), entry(2, 'unknown/unknown'), entry(3, 'linux/arm'));
  assert.deepEqual(
    listPlatformEntries(index).map((e) => formatPlatform(e.platform)),
    ['linux/arm64', 'linux/arm/v7'],
  );
});
