// Tag records: the digest a tag named when last resolved (`<cache>/v1/tags/<sha256 of ref>.json`), for --offline and
// HEAD revalidation.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { holdTemp, writerTag } from './writers.js';
import { isDigest, type Digest } from '../digest/index.js';
import { LkvolError, wrapError } from '../errors.js';

/** What a tag named: the manifest or index digest and its media type. */
export interface TagRecord {
  /** The reference as formatted by `formatReference` (`docker.io/library/alpine:3.21`). */
  ref: string;
  digest: Digest;
  mediaType: string;
}

export interface TagStore {
  /** Path of the record for `ref` (it may not exist). */
  pathOf(ref: string): string;
  /**
   * The record for `ref`; undefined when absent or unreadable as a record (a damaged record is a cache miss). Throws
   * LKVOL_IO.
   */
  get(ref: string): Promise<TagRecord | undefined>;
  /**
   * Writes the record atomically (temp file, then rename: concurrent builds never see half a record). Throws LKVOL_IO.
   */
  put(record: TagRecord): Promise<void>;
}

/** Opens the tag records under `<dir>/v1/tags/` (created on first write). */
export function createTagStore(opts: { dir: string }): TagStore {
  const tagsDir = join(opts.dir, 'v1', 'tags');
  const pathOf = (ref: string) => join(tagsDir, `${createHash('sha256').update(ref).digest('hex')}.json`);
  return {
    pathOf,
    async get(ref) {
      let text: string;
      try {
        text = await readFile(pathOf(ref), 'utf8');
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return undefined;
        throw wrapError(err, 'LKVOL_IO', `read tag record of ${ref} in cache ${opts.dir}`);
      }
      return parseRecord(text, ref);
    },
    async put(record) {
      const final = pathOf(record.ref);
      // In v1/tmp, named after its writer, so the blob cache's clean-up removes it if this build is killed.
      const temp = join(opts.dir, 'v1', 'tmp', tagTempName(record.ref));
      const release = holdTemp(temp);
      try {
        await mkdir(tagsDir, { recursive: true });
        await mkdir(dirname(temp), { recursive: true });
        await writeFile(
          temp,
          JSON.stringify({ ref: record.ref, digest: record.digest, mediaType: record.mediaType }) + '\n',
          { flag: 'wx' },
        );
        await rename(temp, final);
      } catch (err) {
        await rm(temp, { force: true });
        throw wrapError(err, 'LKVOL_IO', `write tag record of ${record.ref} in cache ${opts.dir}`);
      } finally {
        release();
      }
    },
  };
}

/** A record only counts when it is for this very reference (a hash collision or a hand-edited file is a miss). */
function parseRecord(text: string, ref: string): TagRecord | undefined {
  try {
    const v = JSON.parse(text) as Partial<Record<keyof TagRecord, unknown>>;
    if (v.ref !== ref || typeof v.digest !== 'string' || !isDigest(v.digest) || typeof v.mediaType !== 'string')
      return undefined;
    return { ref, digest: v.digest, mediaType: v.mediaType };
  } catch {
    return undefined;
  }
}

/** Thrown under --offline when a tag was never resolved into this cache. */
export function missingTagError(ref: string, cacheDir: string): LkvolError {
  return new LkvolError('LKVOL_REGISTRY_UNAVAILABLE', `pull ${ref}: tag is not in the cache ${cacheDir} (--offline)`, {
    hint: `run the build once without --offline, or pin the image by digest (${ref}@sha256:…) with its blobs cached`,
  });
}

/**
 * The temp file name of a tag record being written: the form of blob temps (`<hex>.<writer>.<rand>`),
 * which is what the cache's orphan clean-up recognises when the writer was killed.
 */
export function tagTempName(ref: string, writer = writerTag()): string {
  return `${createHash('sha256').update(ref).digest('hex').slice(0, 16)}.${writer}.${randomBytes(6).toString('hex')}`;
}
