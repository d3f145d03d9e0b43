// lkvol.lock in a build: pinning the system files' references to it, and `lkvol lock` writing it.
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { loadConfig, type Config, type LoadedContainer, type LoadedVolume } from '../config/index.js';
import { parseDigest, type Digest } from '../digest/index.js';
import { ConfigError, formatConfigIssue, LkvolError, wrapError, type ConfigIssue } from '../errors.js';
import { formatReference, parseReference, withDigest, type NormalizedRef } from '../ref/index.js';
import { formatLock, lockPathFor, parseLock, type Lock, type LockEntry } from '../lock/index.js';
import { formatPlatform, parsePlatform } from '../oci/index.js';
import { resolveBuildOptions, type BuildOptions } from './options.js';
import { createPullSession, type PullSession } from '../pull/index.js';
import { checkSources, sourcesHint } from './sources.js';
import { processId } from '../internal/process.js';

/** A lock read from beside the system files. */
export interface LockFile {
  path: string;
  lock: Lock;
}

/**
 * The lock beside the first system file, or undefined when there is none.
 * @throws LKVOL_LOCK when it is not a lock lkvol wrote.
 */
export async function readLockFor(files: readonly string[], cwd: string): Promise<LockFile | undefined> {
  const path = lockPathFor(files, cwd);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw wrapError(err, 'LKVOL_IO', `read ${path}`);
  }
  return { path, lock: parseLock(text, path) };
}

/** Each image reference of the config once (normalised), with its first use, in file order. */
export function configReferences(
  config: Config,
): Map<string, { ref: NormalizedRef; use: LoadedVolume | LoadedContainer; oci: boolean }> {
  const refs = new Map<string, { ref: NormalizedRef; use: LoadedVolume | LoadedContainer; oci: boolean }>();
  const add = (ref: NormalizedRef | undefined, use: LoadedVolume | LoadedContainer, oci: boolean): void => {
    if (ref !== undefined && !refs.has(formatReference(ref))) refs.set(formatReference(ref), { ref, use, oci });
  };
  for (const v of config.volumes) add(v.ref, v, v.format === 'oci');
  for (const c of [...config.onboot, ...config.services, ...config.onshutdown]) add(c.ref, c, false);
  return refs;
}

/** What pinning did: the config with digests in its references, and what to tell the user. */
export interface Pinned {
  config: Config;
  /** References given the lock's digest. */
  pinned: { image: string; digest: Digest }[];
  /** References the lock lacks, resolved from their tags (not with `locked`, where they are errors). */
  unpinned: { image: string; where: string }[];
}

/**
 * Gives every reference of `config` the digest `lock` pins it to (a digest written in the file wins).
 * With `locked`, a missing lock, a reference it lacks, a reference whose written digest it contradicts,
 * and a pin no file uses any more are LKVOL_LOCK, all listed at once.
 */
export function pinConfig(
  config: Config,
  lock: LockFile | undefined,
  opts: { locked: boolean; lockPath: string },
): Pinned {
  if (lock === undefined) {
    if (opts.locked)
      throw new LkvolError('LKVOL_LOCK', `--locked: ${opts.lockPath} does not exist`, {
        hint: `run \`lkvol lock ${config.files.join(' ')}\` and commit ${opts.lockPath}`,
      });
    return { config, pinned: [], unpinned: [] };
  }
  const refs = configReferences(config);
  const issues: ConfigIssue[] = [];
  const unpinned: Pinned['unpinned'] = [];
  const pins = new Map<string, Digest>();
  for (const [key, { ref, use }] of refs) {
    const entry = lock.lock.images[key];
    const issue = (message: string): ConfigIssue => ({
      ...use.positionOf(['image']),
      path: `${use.path}.image`,
      message,
    });
    if (entry === undefined) {
      if (opts.locked) issues.push(issue(`${key} is not in ${lock.path}`));
      else unpinned.push({ image: key, where: formatConfigIssue(issue('')).replace(/: $/, '') });
    } else if (ref.digest !== undefined && ref.digest !== entry.digest) {
      if (opts.locked) issues.push(issue(`${key} names ${ref.digest}, but ${lock.path} pins ${entry.digest}`));
    } else if (ref.digest === undefined) pins.set(key, entry.digest);
  }
  if (opts.locked) {
    const stale = Object.keys(lock.lock.images).filter((k) => !refs.has(k));
    if (issues.length > 0 || stale.length > 0) {
      const lines = [
        ...issues.map(formatConfigIssue),
        ...stale.map((k) => `${lock.path}: pins ${k}, which no system file uses any more`),
      ];
      throw new LkvolError(
        'LKVOL_LOCK',
        `--locked: ${lock.path} does not match the system files:\n${lines.join('\n')}`,
        { hint: `run \`lkvol lock ${config.files.join(' ')}\` and review the change to ${lock.path}` },
      );
    }
  }
  const pin = <T extends { ref: NormalizedRef | undefined }>(x: T): T => {
    const digest = x.ref === undefined ? undefined : pins.get(formatReference(x.ref));
    return digest === undefined || x.ref === undefined ? x : { ...x, ref: withDigest(x.ref, digest) };
  };
  const pinned = [...pins].map(([image, digest]) => ({ image, digest }));
  return {
    config: {
      ...config,
      volumes: config.volumes.map(pin),
      onboot: config.onboot.map(pin),
      services: config.services.map(pin),
      onshutdown: config.onshutdown.map(pin),
    },
    pinned,
    unpinned,
  };
}

/** Options of {@link lock}: a build's registry options, plus which references to re-resolve. */
export interface LockOptions extends Pick<
  BuildOptions,
  | 'files'
  | 'cacheDir'
  | 'cwd'
  | 'platform'
  | 'jobs'
  | 'insecureRegistries'
  | 'dockerConfigPath'
  | 'authFiles'
  | 'env'
  | 'caCertFiles'
  | 'extraCaCerts'
  | 'certsDirs'
  | 'offline'
  | 'pull'
  | 'mirrors'
  | 'proxy'
  | 'retry'
  | 'userAgent'
  | 'onEvent'
  | 'signal'
> {
  /**
   * Re-resolve every reference (`--update`), or only these (`--update REF...`); otherwise pins already in the lock are
   * kept.
   */
  update?: 'all' | readonly string[] | undefined;
}

export interface LockResult {
  path: string;
  lock: Lock;
  /** References resolved now (the rest kept their pins), and pins dropped because no file uses them. */
  resolved: string[];
  dropped: string[];
  /** Whether the file's bytes changed. */
  changed: boolean;
}

/**
 * `lkvol lock`: resolves the references of the system files and writes lkvol.lock beside the first
 * one (a temporary sibling renamed into place). References already pinned keep their digest unless
 * `update` names them; pins no file uses are dropped. For a reference naming an index, the manifest
 * chosen for `platform` is recorded too (other platforms' entries are kept while the digest stands).
 * @throws LKVOL_LOCK when an existing lkvol.lock is not one lkvol wrote (it is never overwritten) or
 *   `update` names a reference no file uses; what loading and resolving throw.
 */
export async function lock(options: LockOptions): Promise<LockResult> {
  const o = resolveBuildOptions({ ...options, out: '.' });
  const config = await loadConfig(o.files, { cwd: o.cwd, ...(o.signal === undefined ? {} : { signal: o.signal }) });
  // As build does: local images must lead somewhere, and one way only, before anything is resolved.
  const problems = checkSources(config, o.cwd, o.env?.['PATH']);
  if (problems.length > 0) throw new ConfigError('LKVOL_CONFIG_INVALID', problems, { hint: sourcesHint });
  const path = lockPathFor(o.files, o.cwd);
  const existing = await readLockFor(o.files, o.cwd);
  const refs = configReferences(config);
  const update = new Set(
    options.update === 'all' ? refs.keys() : (options.update ?? []).map((r) => formatReference(parseReference(r))),
  );
  const unknown = [...update].filter((k) => !refs.has(k));
  if (unknown.length > 0)
    throw new LkvolError(
      'LKVOL_LOCK',
      `--update: ${unknown.join(', ')}: no system file uses ${unknown.length === 1 ? 'it' : 'them'}`,
      { hint: `name references as the system files write them: ${[...refs.keys()].join(', ')}` },
    );
  const platform = parsePlatform(o.platform);
  const session = await createPullSession({ ...o, platform, dockerConfigPath: o.dockerConfigPath, signal: o.signal });
  const images: Record<string, LockEntry> = {};
  const resolved: string[] = [];
  try {
    for (const [key, { ref, oci }] of refs) {
      const kept = existing?.lock.images[key];
      const pin = { ref, oci, platform: formatPlatform(platform) };
      if (kept !== undefined && !update.has(key) && (ref.digest === undefined || ref.digest === kept.digest)) {
        images[key] = await withPlatform(session, kept, pin);
        continue;
      }
      images[key] = await resolveEntry(session, pin);
      resolved.push(key);
    }
  } finally {
    await session.close();
  }
  // Named from the lock's own directory, so the header does not depend on where lock ran.
  const text = formatLock(
    { images },
    o.files.map((f) => relative(dirname(path), resolve(o.cwd, f)) || f),
  );
  const before = existing === undefined ? undefined : await readFile(path, 'utf8').catch(() => undefined);
  if (before !== text) await writeAtomically(path, text);
  const dropped = Object.keys(existing?.lock.images ?? {}).filter((k) => !refs.has(k));
  return { path, lock: { images }, resolved, dropped, changed: before !== text };
}

/** A reference to pin for `platform`; `oci` when a `format: oci` volume uses it: then its digest alone is pinned. */
interface Pin {
  ref: NormalizedRef;
  oci: boolean;
  platform: string;
}

/**
 * The entry of a reference resolved now: the digest its tag names, and the manifest picked for `platform` when that is
 * an index.
 */
async function resolveEntry(session: PullSession, { ref, oci, platform }: Pin): Promise<LockEntry> {
  if (oci) return { digest: parseDigest((await session.fetchManifest(ref)).digest) };
  const image = await session.resolve(ref);
  return image.index === undefined
    ? { digest: image.digest }
    : { digest: image.digest, platforms: { [platform]: image.manifestDigest } };
}

/**
 * A kept pin, with the manifest for `platform` added when the pin names an index (resolved by digest: the cache usually
 * has it).
 */
async function withPlatform(session: PullSession, kept: LockEntry, { ref, oci, platform }: Pin): Promise<LockEntry> {
  if (oci || kept.platforms?.[platform] !== undefined) return kept;
  const image = await session.resolve(withDigest(ref, kept.digest));
  return image.index === undefined
    ? kept
    : { digest: kept.digest, platforms: { ...kept.platforms, [platform]: image.manifestDigest } };
}

/** Writes `path` through a temporary sibling, so a reader never sees half a lock. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${processId()}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, text, { flag: 'wx', mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw wrapError(err, 'LKVOL_IO', `write ${path}`);
  }
}
