// Reads an OCI image layout directory (image-spec image-layout.md) as `skopeo copy … oci:DIR` and umoci write it.
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { digestAlgorithm, digestHex, parseDigest, type Digest } from '../digest/index.js';
import { LkvolError } from '../errors.js';
import { mediaTypes, parseManifestDocument, type Descriptor, type Index } from '../oci/index.js';
import { formatLocalImage, formatReference, type LocalImage, type NormalizedRef } from '../ref/index.js';
import { checkManifest, nearestTags, type FetchedManifest } from '../registry/index.js';
import {
  documentLimit,
  localError,
  openRegularFile,
  readBytes,
  readFailure,
  verifyBytes,
  type LocalImageSource,
} from './source.js';

/** The annotation naming an image in a layout's index.json (`skopeo copy … oci:DIR:NAME`). */
export const refNameAnnotation = 'org.opencontainers.image.ref.name';

const layoutHint = (image: LocalImage) =>
  `make it with \`skopeo copy docker://IMAGE oci:${image.path}:NAME\` or umoci, and check the path (relative to the system file; for inspect, to the current directory)`;
const incompleteHint = 'the layout is incomplete: copy the image into it again';

/**
 * The layout at `dir` (absolute) as an image source. Manifests and configs are read and verified on
 * each request; layers are streamed from `blobs/` for the cache to verify. Every file must really
 * be inside the layout (a blob that is a symlink to a host file is refused, so neither its bytes nor
 * its hash reach anyone) and be a regular file of the size its descriptor gives.
 */
export function openOciLayout(image: LocalImage, dir: string): LocalImageSource {
  let root: Promise<string> | undefined;
  const within = () =>
    (root ??= realpath(dir).catch((err: unknown) => {
      throw readFailure(err, { subject: formatLocalImage(image), what: dir, hint: layoutHint(image) });
    }));
  const blobPath = (digest: Digest) => join(dir, 'blobs', digestAlgorithm(digest), digestHex(digest));
  const blobName = (digest: Digest) => `blobs/${digestAlgorithm(digest)}/${digestHex(digest)}`;
  const readBlob = async (
    ref: NormalizedRef,
    d: { digest: Digest; size?: number | undefined },
    what: string,
    o: { hint: string; signal?: AbortSignal | undefined },
  ): Promise<Buffer> => {
    const subject = formatReference(ref);
    const bytes = await readBytes(blobPath(d.digest), {
      subject,
      what: `${what} ${d.digest} (${blobName(d.digest)})`,
      hint: o.hint,
      limit: documentLimit,
      size: d.size,
      within: await within(),
      signal: o.signal,
    });
    verifyBytes(bytes, d, `${subject}: ${what} ${d.digest}`);
    return bytes;
  };
  let index: Promise<Index> | undefined;
  return {
    async fetchManifest(ref, opts = {}): Promise<FetchedManifest> {
      const subject = formatReference(ref);
      const signal = opts.signal;
      if (ref.digest !== undefined) {
        // A digest written in the system file or pinned by lkvol.lock, or an index's entry.
        const hint =
          opts.size === undefined
            ? 'the reference or lkvol.lock pins a digest the layout does not hold: pin what it holds (lkvol lock --update) or restore the layout'
            : incompleteHint;
        const bytes = await readBlob(ref, { digest: ref.digest, size: opts.size }, 'manifest', { hint, signal });
        return checkManifest(bytes, { subject, pinned: ref.digest, size: opts.size, contentType: opts.mediaType });
      }
      const descriptor = selectImage(image, await (index ??= readIndex(image, dir, await within())), subject);
      const bytes = await readBlob(ref, descriptor, 'manifest', { hint: incompleteHint, signal });
      return checkManifest(bytes, {
        subject,
        pinned: descriptor.digest,
        size: descriptor.size,
        contentType: descriptor.mediaType,
      });
    },
    async fetchBlobBytes(ref, d, opts = {}) {
      return readBlob(ref, { digest: parseDigest(d.digest, `blob of ${formatReference(ref)}`), size: d.size }, 'blob', {
        hint: incompleteHint,
        signal: opts.signal,
      });
    },
    async openBlob(d, opts = {}): Promise<Readable> {
      const digest = parseDigest(d.digest, `blob of ${image.path}`);
      const { handle } = await openRegularFile(blobPath(digest), {
        subject: formatLocalImage(image),
        what: `layer ${d.digest}`,
        hint: incompleteHint,
        size: d.size,
        within: await within(),
        signal: opts.signal,
      });
      return handle.createReadStream({
        highWaterMark: 1 << 20,
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
    },
  };
}

/** The layout's index.json, after checking its `oci-layout` marker. @throws LKVOL_LOCAL_IMAGE. */
async function readIndex(image: LocalImage, dir: string, within: string): Promise<Index> {
  const subject = formatLocalImage(image);
  const hint = layoutHint(image);
  if (
    !(await stat(join(dir, 'oci-layout')).then(
      (s) => s.isFile(),
      () => false,
    ))
  )
    throw localError(subject, `${dir} is not an OCI image layout: it has no oci-layout file`, { hint });
  const marker = await readBytes(join(dir, 'oci-layout'), {
    subject,
    what: 'oci-layout',
    hint,
    limit: 64 << 10,
    within,
  });
  let version: unknown;
  try {
    version = (JSON.parse(marker.toString('utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch {
    version = undefined;
  }
  if (typeof version !== 'string' || !/^1\.\d+\.\d+$/.test(version)) {
    throw localError(
      subject,
      `oci-layout says imageLayoutVersion ${JSON.stringify(version)}; lkvol reads version 1.x layouts`,
      { hint },
    );
  }
  const bytes = await readBytes(join(dir, 'index.json'), {
    subject,
    what: 'index.json',
    hint,
    limit: documentLimit,
    within,
  });
  try {
    const document = parseManifestDocument(bytes, {
      contentType: mediaTypes.ociIndex,
      subject: `${subject}: index.json`,
    });
    if (document.kind !== 'index') throw localError(subject, 'index.json is not an image index', { hint });
    return document.index;
  } catch (err) {
    if (err instanceof LkvolError && err.code !== 'LKVOL_LOCAL_IMAGE')
      throw localError(subject, err.message.replace(`${subject}: `, ''), { hint, cause: err });
    throw err;
  }
}

/**
 * The index.json entry the reference names: the one whose ref.name annotation is the name; without
 * a name the only entry, else the one named `latest` (skopeo's default).
 * @throws LKVOL_LOCAL_IMAGE listing the names there are.
 */
export function selectImage(
  image: LocalImage,
  index: Index,
  subject: string,
): { digest: Digest; size: number; mediaType: string } {
  const entries = index.manifests;
  const names = entries.map((d) => d.annotations?.[refNameAnnotation]).filter((n): n is string => n !== undefined);
  const held =
    names.length === 0
      ? `it names none of its ${entries.length} images`
      : `it holds ${names.map((n) => JSON.stringify(n)).join(', ')}`;
  const closest = nearestTags(image.name ?? 'latest', names, 1)[0];
  const hint =
    closest === undefined
      ? 'write the image into the layout with a name (skopeo copy … oci:DIR:NAME)'
      : `name one after the path: ${image.transport}:${image.path}:${closest}`;
  let chosen: Descriptor[];
  if (image.name !== undefined) chosen = entries.filter((d) => d.annotations?.[refNameAnnotation] === image.name);
  else if (entries.length === 1) chosen = entries;
  else chosen = entries.filter((d) => d.annotations?.[refNameAnnotation] === 'latest');
  if (entries.length === 0)
    throw localError(subject, 'the layout holds no image (index.json lists no manifests)', { hint: layoutHint(image) });
  if (chosen.length === 0) {
    const want =
      image.name === undefined
        ? `no name given and the layout holds ${entries.length} images, none named "latest"`
        : `no image named ${JSON.stringify(image.name)}`;
    throw localError(subject, `${want} in index.json; ${held}`, { hint });
  }
  if (chosen.length > 1)
    throw localError(
      subject,
      `index.json names ${chosen.length} images ${JSON.stringify(image.name ?? 'latest')}; lkvol will not guess which`,
      { hint: 'write the layout again with one image per name' },
    );
  const d = chosen[0]!;
  return { digest: parseDigest(d.digest, `${subject}: index.json entry`), size: d.size, mediaType: d.mediaType };
}
