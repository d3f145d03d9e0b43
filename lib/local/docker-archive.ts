// Reads a `docker save` archive (or skopeo's docker-archive:) as an image: manifest.json says which
// member is the config and which are the layers; lkvol describes them in an OCI manifest of its own.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import * as z from 'zod';
import { digestOf, isDigest, parseDigest, type Digest } from '../digest/index.js';
import { LkvolError } from '../errors.js';
import { mediaTypes, parseImageConfig } from '../oci/index.js';
import { formatLocalImage, formatReference, parseReference, type LocalImage } from '../ref/index.js';
import { checkManifest, nearestTags } from '../registry/index.js';
import { createDecompressor, createStreamCap, detectCompression, sniffLength } from '../layer/index.js';
import { isRegularTypeflag, TarFormatError, TarReader, typeflags } from '../tar/index.js';
import {
  documentLimit,
  localError,
  openRegularFile,
  readBytes,
  readFailure,
  verifyBytes,
  type LocalImageSource,
  type LocalSourceOptions,
} from './source.js';

/** A member of the archive: where its data lies. */
interface Member {
  dataOffset: number;
  size: number;
}

/** manifest.json of `docker save` (moby image/tarexport): one entry per image. */
const archiveManifestSchema = z.array(
  z.looseObject({
    Config: z.string(),
    RepoTags: z.array(z.string()).nullish(),
    Layers: z.array(z.string()),
  }),
);

/** The image lkvol describes: its manifest's bytes and where each blob it names lies in the archive. */
interface ArchiveImage {
  manifestBytes: Buffer;
  digest: Digest;
  config: { digest: Digest; bytes: Buffer };
  blobs: Map<string, Member>;
}

const archiveHint = (image: LocalImage) =>
  `make it with \`docker save IMAGE -o ${image.path}\` or \`skopeo copy docker://IMAGE docker-archive:${image.path}:NAME\`, and check the path (relative to the system file; for inspect, to the current directory)`;

/** How many symbolic links between layer members lkvol follows (docker save links repeated layers). */
const maxLinkHops = 8;
/**
 * Bounds on what listing an archive keeps in memory: docker save writes a few members per layer with
 * short names, so an archive past these is not one (and could otherwise exhaust the heap).
 */
const maxMembers = 65_536;
const maxMemberName = 1024;

/**
 * The archive at `file` (absolute) as an image source. It is read once to list its members; the
 * manifest is lkvol's own OCI manifest of the config and layers, so its digest is stable for the same
 * archive content. A layer's digest is its member's name (`blobs/sha256/<hex>`), else its diff_id
 * when the member is an uncompressed tar, else the hash of its bytes.
 */
export function openDockerArchive(image: LocalImage, written: string, o: LocalSourceOptions): LocalImageSource {
  const subject = formatLocalImage(image);
  // A compressed archive (`docker save | gzip`) is read from a decompressed copy: members are read in place.
  let file = written;
  let described: Promise<ArchiveImage> | undefined;
  // The first request's signal reads the archive: they all come from one build.
  const describe = (signal: AbortSignal | undefined) =>
    (described ??= plainArchive(image, written, { ...o, subject, signal }).then((plain) => {
      file = plain;
      return describeImage(image, plain, subject, signal);
    }));
  return {
    async fetchManifest(ref, opts = {}) {
      const archived = await describe(opts.signal);
      if (ref.digest !== undefined && ref.digest !== archived.digest) {
        throw localError(
          formatReference(ref),
          `the archive now holds image ${archived.digest}, not the ${ref.digest} the reference pins (in the system file or lkvol.lock)`,
          { hint: 'pin what the archive holds now (lkvol lock --update), or restore the archive' },
        );
      }
      return checkManifest(archived.manifestBytes, {
        subject,
        pinned: archived.digest,
        size: opts.size,
        contentType: mediaTypes.ociManifest,
      });
    },
    async fetchBlobBytes(_ref, d, opts = {}) {
      const archived = await describe(opts.signal);
      if (d.digest !== archived.config.digest)
        throw localError(subject, `the archive's image has no document ${d.digest}`, { hint: archiveHint(image) });
      return archived.config.bytes;
    },
    async openBlob(d, opts = {}) {
      const archived = await describe(opts.signal);
      // `format: oci` copies the config as a blob too.
      if (d.digest === archived.config.digest) return Readable.from([archived.config.bytes]);
      const member = archived.blobs.get(d.digest);
      if (member === undefined)
        throw localError(subject, `the archive's image has no blob ${d.digest}`, { hint: archiveHint(image) });
      return openMember(file, member, {
        subject,
        what: `layer ${d.digest}`,
        hint: archiveHint(image),
        signal: opts.signal,
      });
    },
  };
}

/**
 * The archive as a plain tar: `file` itself, or a copy decompressed into a temporary file (gzip or
 * zstd, as docker load and skopeo accept them), capped as a layer's stream is (a bomb stops there).
 */
async function plainArchive(
  image: LocalImage,
  file: string,
  o: LocalSourceOptions & { subject: string; signal: AbortSignal | undefined },
): Promise<string> {
  const { subject, signal } = o;
  const hint = archiveHint(image);
  const { handle, size } = await openRegularFile(file, { subject, what: file, hint, signal });
  let compression;
  try {
    const head = Buffer.alloc(Math.min(sniffLength, size));
    await handle.read(head, 0, head.length, 0);
    compression = detectCompression(head);
  } catch (err) {
    await handle.close();
    throw readFailure(err, { subject, what: file, hint });
  }
  if (compression === 'none') {
    await handle.close();
    return file;
  }
  if (compression !== 'gzip' && compression !== 'zstd') {
    await handle.close();
    throw localError(subject, `${file} is compressed with ${compression}, which lkvol does not read`, {
      hint: 'decompress it first, or save it uncompressed or with gzip or zstd',
    });
  }
  const temp = o.tempFile();
  try {
    await pipeline(
      handle.createReadStream({ start: 0, highWaterMark: 1 << 20 }),
      createDecompressor(compression, formatLocalImage(image)),
      createStreamCap({}, `${subject} (decompressed)`),
      createWriteStream(temp.path, { flags: 'wx', mode: 0o600 }),
      signal === undefined ? {} : { signal },
    );
  } catch (err) {
    await temp.discard();
    if (err instanceof LkvolError) throw err;
    if (signal?.aborted === true)
      throw new LkvolError('LKVOL_CANCELLED', `${subject}: cancelled while decompressing ${file}`, { cause: err });
    throw localError(
      subject,
      `${file} is ${compression}-compressed but does not decompress: ${(err as Error).message}`,
      { hint, cause: err },
    );
  }
  return temp.path;
}

/** A member's bytes, read in place (the archive opened again as a regular file). */
async function openMember(
  file: string,
  m: Member,
  o: { subject: string; what: string; hint: string; signal: AbortSignal | undefined },
): Promise<Readable> {
  if (m.size === 0) return Readable.from([]);
  const { handle } = await openRegularFile(file, o);
  return handle.createReadStream({
    start: m.dataOffset,
    end: m.dataOffset + m.size - 1,
    highWaterMark: 1 << 20,
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
}

/**
 * A member name as lkvol keys it: normalised, without `./` or a trailing `/`; absolute names are taken from the
 * archive's root (as docker load does).
 */
function memberKey(name: string): string {
  return posix
    .normalize(name)
    .replace(/^(\.\/)+/, '')
    .replace(/^\/+/, '')
    .replace(/\/$/, '');
}

/** Lists the archive's regular members by name (links resolved later), reading it once. */
async function listMembers(
  image: LocalImage,
  file: string,
  subject: string,
  signal: AbortSignal | undefined,
): Promise<{ files: Map<string, Member>; links: Map<string, string> }> {
  const files = new Map<string, Member>();
  const links = new Map<string, string>();
  const hint = archiveHint(image);
  const { handle } = await openRegularFile(file, { subject, what: file, hint, signal });
  const stream = handle.createReadStream({ highWaterMark: 1 << 20, ...(signal === undefined ? {} : { signal }) });
  try {
    for await (const { header } of new TarReader(stream).members()) {
      if (files.size + links.size >= maxMembers)
        throw localError(subject, `${file} has more than ${maxMembers} members: it is not a docker save archive`, {
          hint,
        });
      for (const [what, value] of [
        ['name', header.name],
        ['link target', header.linkname],
      ] as const) {
        if (value.length > maxMemberName)
          throw localError(
            subject,
            `${file} has a member ${what} of ${value.length} bytes (at most ${maxMemberName}): it is not a docker save archive`,
            { hint },
          );
      }
      const name = memberKey(header.name);
      if (isRegularTypeflag(header.typeflag)) files.set(name, { dataOffset: header.dataOffset, size: header.size });
      else if (header.typeflag === typeflags.symlink)
        links.set(
          name,
          memberKey(
            header.linkname.startsWith('/') ? header.linkname : posix.join(posix.dirname(name), header.linkname),
          ),
        );
      else if (header.typeflag === typeflags.hardlink) links.set(name, memberKey(header.linkname));
    }
  } catch (err) {
    if (signal?.aborted === true)
      throw new LkvolError('LKVOL_CANCELLED', `${subject}: cancelled while reading ${file}`, { cause: err });
    if (err instanceof TarFormatError)
      throw localError(subject, `${file} is not a tar archive lkvol can read: ${err.message}`, { hint, cause: err });
    throw readFailure(err, { subject, what: file, hint });
  } finally {
    stream.destroy();
  }
  return { files, links };
}

async function describeImage(
  image: LocalImage,
  file: string,
  subject: string,
  signal: AbortSignal | undefined,
): Promise<ArchiveImage> {
  const hint = archiveHint(image);
  const { files, links } = await listMembers(image, file, subject, signal);
  const member = (name: string, what: string): Member => {
    let current = memberKey(name);
    for (let hop = 0; !files.has(current); hop++) {
      const next = links.get(current);
      if (next === undefined || hop >= maxLinkHops)
        throw localError(subject, `${what} ${JSON.stringify(name)} is not a file in the archive`, { hint });
      current = next;
    }
    return files.get(current)!;
  };
  const read = (m: Member, what: string) =>
    readBytes(file, { subject, what, hint, limit: documentLimit, position: m.dataOffset, length: m.size, signal });

  const manifestMember = files.get('manifest.json');
  if (manifestMember === undefined)
    throw localError(subject, `${file} has no manifest.json: it is not a docker save archive`, { hint });
  const parsed = archiveManifestSchema.safeParse(
    parseJson(await read(manifestMember, 'manifest.json'), subject, 'manifest.json', hint),
  );
  if (!parsed.success)
    throw localError(
      subject,
      `manifest.json is not a docker save manifest: ${parsed.error.issues[0]?.message ?? 'invalid'} at ${(parsed.error.issues[0]?.path ?? []).join('.')}`,
      { hint },
    );
  const entry = chooseEntry(image, parsed.data, subject);

  const configBytes = await read(member(entry.Config, 'config'), `config ${entry.Config}`);
  const configDigest = blobDigest(entry.Config) ?? digestOf(configBytes);
  verifyBytes(configBytes, { digest: configDigest }, `${subject}: config ${entry.Config}`);
  const config = parseImageConfig(configBytes, { subject: `${subject}: config ${entry.Config}` });
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== entry.Layers.length) {
    throw localError(
      subject,
      `manifest.json lists ${entry.Layers.length} layers but the config has ${diffIds.length} diff_ids`,
      { hint },
    );
  }
  const blobs = new Map<string, Member>();
  // A member listed again (a repeated layer, or one path naming its digest and another not) is
  // sniffed once and hashed at most once.
  const compressionOf = memoByMember((m) => sniffCompression(file, m, { subject, hint, signal }));
  const hashOf = memoByMember((m) =>
    hashMember(file, m, { subject, what: `layer at offset ${m.dataOffset}`, hint, signal }),
  );
  const layers = [];
  for (const [i, path] of entry.Layers.entries()) {
    const m = member(path, `layer ${i + 1}`);
    const compression = await compressionOf(m);
    const digest =
      blobDigest(path) ??
      (compression === 'none' ? parseDigest(diffIds[i]!, `${subject}: diff_id ${i + 1}`) : await hashOf(m));
    blobs.set(digest, m);
    layers.push({
      mediaType:
        compression === 'gzip'
          ? mediaTypes.ociLayerGzip
          : compression === 'zstd'
            ? mediaTypes.ociLayerZstd
            : mediaTypes.ociLayer,
      digest,
      size: m.size,
    });
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: mediaTypes.ociManifest,
    config: { mediaType: mediaTypes.ociConfig, digest: configDigest, size: configBytes.length },
    layers,
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    manifestBytes,
    digest: digestOf(manifestBytes),
    config: { digest: configDigest, bytes: configBytes },
    blobs,
  };
}

/**
 * The manifest.json entry the reference names (by RepoTag, compared as written or as normalised
 * references); without a name the only one. Two images tagged alike are refused, as in a layout.
 */
function chooseEntry<T extends { RepoTags?: string[] | null | undefined }>(
  image: LocalImage,
  entries: T[],
  subject: string,
): T {
  const tags = entries.flatMap((e) => e.RepoTags ?? []);
  const listed =
    tags.length === 0 ? 'its images have no tags' : `it holds ${tags.map((t) => JSON.stringify(t)).join(', ')}`;
  if (entries.length === 0) throw localError(subject, 'manifest.json lists no image', { hint: archiveHint(image) });
  if (image.name === undefined) {
    if (entries.length === 1) return entries[0]!;
    throw localError(subject, `the archive holds ${entries.length} images and the reference names none; ${listed}`, {
      hint:
        tags.length === 0
          ? 'save one image per archive'
          : `name one after the path: ${image.transport}:${image.path}:${tags[0]!}`,
    });
  }
  const name = image.name;
  const want = normalised(name);
  const chosen = entries.filter((e) =>
    (e.RepoTags ?? []).some((t) => t === name || (want !== undefined && normalised(t) === want)),
  );
  if (chosen.length === 0) {
    const closest = nearestTags(name, tags, 1)[0];
    throw localError(subject, `no image tagged ${JSON.stringify(name)} in manifest.json; ${listed}`, {
      hint:
        closest === undefined
          ? 'leave the name out: the archive has one image'
          : `name one of them after the path: ${image.transport}:${image.path}:${closest}`,
    });
  }
  if (chosen.length > 1)
    throw localError(
      subject,
      `manifest.json has ${chosen.length} images tagged ${JSON.stringify(name)}; lkvol will not guess which`,
      { hint: 'save the images again with one image per tag' },
    );
  return chosen[0]!;
}

/** A RepoTag as Docker reads it (`busybox:1` = `docker.io/library/busybox:1`); undefined when it is not a reference. */
function normalised(tag: string): string | undefined {
  try {
    return formatReference(parseReference(tag));
  } catch (err) {
    if (err instanceof LkvolError) return undefined;
    throw err;
  }
}

/** The digest a `blobs/<alg>/<hex>` member name states (Docker 25+ archives), else undefined. */
function blobDigest(path: string): Digest | undefined {
  const m = /^(?:\.\/)?blobs\/(sha256|sha512)\/([0-9a-f]+)$/.exec(path);
  const d = m === null ? undefined : `${m[1]}:${m[2]}`;
  return d !== undefined && isDigest(d) ? d : undefined;
}

type Compression = 'gzip' | 'zstd' | 'none';

/** `fn` run once per member. */
function memoByMember<T>(fn: (m: Member) => Promise<T>): (m: Member) => Promise<T> {
  const done = new Map<Member, Promise<T>>();
  return (m) => {
    let p = done.get(m);
    if (p === undefined) done.set(m, (p = fn(m)));
    return p;
  };
}

async function sniffCompression(
  file: string,
  m: Member,
  o: { subject: string; hint: string; signal: AbortSignal | undefined },
): Promise<Compression> {
  const head = await readBytes(file, {
    ...o,
    what: 'layer',
    limit: 4,
    position: m.dataOffset,
    length: Math.min(4, m.size),
  });
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length === 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** The sha256 of a member's bytes (a compressed layer, whose digest the archive does not state). */
async function hashMember(
  file: string,
  m: Member,
  o: { subject: string; what: string; hint: string; signal: AbortSignal | undefined },
): Promise<Digest> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of await openMember(file, m, o)) hash.update(chunk as Buffer);
  } catch (err) {
    throw readFailure(err, o);
  }
  return `sha256:${hash.digest('hex')}` as Digest;
}

function parseJson(bytes: Buffer, subject: string, what: string, hint: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw localError(subject, `${what} is not JSON: ${(err as Error).message}`, { hint, cause: err });
  }
}
