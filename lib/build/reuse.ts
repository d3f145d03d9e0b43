// Reusing an unchanged volume of the previous output: same inputs, intact tree → hard-linked into staging.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdir,
  readdirSync,
  utimesSync,
  type Stats,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config, LoadedVolume } from '../config/index.js';
import { copyAppliedXattrs, extractionRulesVersion, type VolumeLimits } from '../layer/index.js';
import { formatPlatform } from '../oci/index.js';
import { formatReference } from '../ref/index.js';
import type { ResolvedImage } from '../registry/index.js';
import { entriesPerTurn, yieldTurn } from '../internal/async.js';
import { removeTree } from '../internal/remove.js';
import { compareBytes } from '../internal/compare.js';
import { below } from '../internal/path.js';
import { version } from '../version.js';
import { isBuildRecord, type BuildRecord, type VolumeRecord } from './record.js';
import { fingerprintLine, ifReadable } from './fingerprint-walk.js';
import { createFingerprintWalks, type FingerprintWalks } from './fingerprints.js';
import type { Adoption } from './output.js';

/** The previous output's build record, or undefined when OUT holds none (a first build, or a broken record). */
export async function readPreviousRecord(out: string): Promise<BuildRecord | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(join(out, 'lkvol.json'), 'utf8'));
    return isBuildRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The trees of the previous output that this build may reuse, in the order of the volumes: lower/ of each filesystem
 * volume filled from an image or a provisioner, of the same name and format, fingerprinted then. Whether their inputs
 * are unchanged is not known yet.
 */
export function reusableTrees(config: Config, previous: BuildRecord): string[] {
  return config.volumes
    .filter((v) => {
      const record = previous.volumes.find((r) => r.name === v.name);
      const filled = v.ref !== undefined || v.provisioner !== undefined;
      return filled && record?.fingerprint !== undefined && record.format === v.format && v.format === 'filesystem';
    })
    .map((v) => volumeTree(v.name).tree);
}

/**
 * Everything that decides what a filesystem volume's lower/ holds, hashed: lkvol's version and its
 * extraction rules, the manifest and its layers (with their diff_ids), the platform, the limits and
 * whether ownership is applied. Equal inputs give the same tree, byte for byte.
 */
export function volumeInputs(image: ResolvedImage, limits: VolumeLimits, applyOwnership: boolean): string {
  const source = {
    manifest: image.manifestDigest,
    platform: formatPlatform(image.platform),
    layers: image.manifest.layers.map((l) => l.digest),
    diffIds: image.config.rootfs.diff_ids,
  };
  return treeInputs(source, limits, applyOwnership);
}

/**
 * The inputs hash of a tree extracted from `source` (an image's layers, a provisioner's stream) under these rules and
 * limits.
 */
export function treeInputs(source: Record<string, unknown>, limits: VolumeLimits, applyOwnership: boolean): string {
  const inputs = {
    lkvol: version,
    rules: extractionRulesVersion,
    format: 'filesystem',
    ...source,
    limits: {
      maxBytes: limits.maxBytes ?? null,
      maxEntries: limits.maxEntries ?? null,
      maxDepth: limits.maxDepth ?? null,
    },
    applyOwnership,
  };
  return `sha256:${createHash('sha256').update(JSON.stringify(inputs)).digest('hex')}`;
}

/**
 * The record of a reused volume: the tree's fields from the previous record (its inputs are equal),
 * what the reference resolved to from this build (a tag may now name another index holding the same
 * manifest), the volume's own settings from the system file.
 */
export function reusedRecord(previous: VolumeRecord, volume: LoadedVolume, image: ResolvedImage): VolumeRecord {
  return {
    ...previous,
    image: volume.ref === undefined ? null : formatReference(volume.ref),
    digest: image.digest,
    manifest: image.manifestDigest,
    platform: formatPlatform(image.platform),
    readonly: volume.readonly,
  };
}

/** Options of {@link reuseVolume}. */
export interface ReuseOptions {
  /** The previous output, OUT (resolved by the output guard). */
  out: string;
  /** The tree to reuse, below OUT: `containers/volumes/<name>/lower`, or a bundle's `lower` or `rootfs`. */
  tree: string;
  /** Directories below OUT that must be empty for the tree to count as intact (a volume's `tmp` and `merged`). */
  empty: readonly string[];
  /** Its copy in staging: exists and is empty. */
  to: string;
  /** The previous record of the tree, whose fingerprint it must still match. */
  previous: { fingerprint?: string | undefined };
  applyOwnership: boolean;
  signal?: AbortSignal | undefined;
  /** The build's fingerprint walks (a walk of the main thread alone without). */
  walks?: FingerprintWalks | undefined;
}

/** Where a volume's tree and its empty siblings are, for {@link reuseVolume} and {@link volumeIntact}. */
export function volumeTree(name: string): Pick<ReuseOptions, 'tree' | 'empty'> {
  const dir = `containers/volumes/${name}`;
  return { tree: `${dir}/lower`, empty: [`${dir}/tmp`, `${dir}/merged`] };
}

/**
 * True when a tree of the previous output is intact: its `empty` siblings are empty directories and
 * a stat walk of it gives the recorded fingerprint. Reads only.
 */
export async function volumeIntact(o: Omit<ReuseOptions, 'to' | 'applyOwnership'>): Promise<boolean> {
  return (await intactTree(o)) !== undefined;
}

/**
 * The root directory of a tree of the previous output that is intact (see {@link volumeIntact}), for the
 * new output to adopt whole (output.ts `Adoption`); undefined when it is not, or it was replaced meanwhile.
 */
export async function intactTree(
  o: Omit<ReuseOptions, 'to' | 'applyOwnership'>,
): Promise<{ dev: number; ino: number } | undefined> {
  if (o.previous.fingerprint === undefined || !o.empty.every((d) => emptyDir(join(o.out, d)))) return undefined;
  const walked = await (o.walks ?? createFingerprintWalks()).fingerprint(o.out, o.tree, o.signal);
  if (walked === undefined || walked.fingerprint !== o.previous.fingerprint) return undefined;
  const after = lstatSync(join(o.out, o.tree), { throwIfNoEntry: false });
  return after?.dev === walked.root.dev && after.ino === walked.root.ino ? walked.root : undefined;
}

/**
 * Recreates a tree of the previous output (a volume's lower/, a bundle's root) in staging without extracting anything:
 * directories are made anew (owner, mode, times and applied xattrs copied), everything else is hard-linked, and the
 * walk fingerprints the old tree as it goes. The old output is only read, so a failed or killed build
 * leaves it as it was. Returns false, with the staging copy removed, when the old tree is not intact
 * (see {@link volumeIntact}: someone edited it), or a directory cannot be read (a rootless tree with
 * 0000 directories is extracted anew rather than chmod-ed in the old output).
 * @throws the fs error when staging cannot be written.
 */
export async function reuseVolume(o: ReuseOptions): Promise<boolean> {
  const dirs = await walkPrevious(o, o.to);
  if (dirs !== undefined && (await setUpDirs(o, dirs))) return true;
  await removeTree(o.to);
  mkdirSync(o.to);
  return false;
}

/**
 * Reuses an intact tree of the previous output: hands it to `adopt` (moved into the new output at the swap,
 * output.ts) or, without it, links it into staging ({@link reuseVolume}). Returns false when it is not intact.
 */
export async function reuseTree(
  o: ReuseOptions & { adopt?: ((tree: Adoption) => void) | undefined },
): Promise<boolean> {
  const { adopt, ...reuse } = o;
  if (adopt === undefined) {
    // Linked, it is walked again as it is linked: the worker need not walk it.
    o.walks?.drop(o.out, o.tree);
    return reuseVolume(reuse);
  }
  const root = await intactTree(reuse);
  if (root === undefined) return false;
  adopt({ rel: o.tree, ...root });
  return true;
}

/**
 * Gives the directories made in staging the old ones' owner, mode, times and xattrs, deepest first
 * (a 0555 parent must still let its children be set up), the root last (a "./" entry may have set
 * it). False when the old output vanished meanwhile (a concurrent build replaced it).
 */
async function setUpDirs(o: ReuseOptions, dirs: Array<{ path: string; st: Stats }>): Promise<boolean> {
  const lower = join(o.out, o.tree);
  const root = lstatSync(lower, { throwIfNoEntry: false });
  if (root === undefined) return false;
  try {
    for (const { path, st } of [...dirs.reverse(), { path: '', st: root }]) {
      const to = path === '' ? o.to : join(o.to, path);
      if (o.applyOwnership) {
        if (!copyAppliedXattrs(join(lower, path), to)) return false;
        chownSync(to, st.uid, st.gid);
      }
      chmodSync(to, st.mode & 0o7777);
      utimesSync(to, st.atimeMs / 1000, st.mtimeMs / 1000);
    }
  } catch (err) {
    // Node's errno code, or the xattr binding's "(os error 2)": the old output vanished meanwhile.
    if (/ENOENT|os error 2\)/.test(`${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`))
      return false;
    throw err;
  }
  return true;
}

/**
 * Walks the previous output's volume in byte order of path, fingerprinting it, and makes each directory in `to` and
 * hard-links everything else there. Returns the directories met (to set up after), or undefined when the tree is not
 * intact or cannot be read or linked.
 */
async function walkPrevious(
  o: Omit<ReuseOptions, 'to' | 'applyOwnership'>,
  to: string,
): Promise<Array<{ path: string; st: Stats }> | undefined> {
  const fingerprint = o.previous.fingerprint;
  const lower = join(o.out, o.tree);
  // Real directories all the way down from OUT (resolved by the output guard): never walk or link through a symlink.
  const parts = o.tree.split('/');
  const chain = parts.map((_, i) => join(o.out, ...parts.slice(0, i + 1)));
  if (!chain.every((p) => lstatSync(p, { throwIfNoEntry: false })?.isDirectory() === true)) return undefined;
  if (fingerprint === undefined || !o.empty.every((d) => emptyDir(join(o.out, d)))) return undefined;
  const hash = createHash('sha256');
  /** Links this walk added to each inode, so link counts are compared as they were. */
  const added = new Map<string, number>();
  const dirs: Array<{ path: string; st: Stats }> = [];
  let sinceTurn = 0;
  const walk = async (rel: string): Promise<boolean> => {
    const names = readNamesReadingAhead(below(lower, rel));
    if (names === undefined) return false;
    names.sort(compareBytes);
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      if (++sinceTurn >= entriesPerTurn) {
        sinceTurn = 0;
        await yieldTurn(o.signal, `check ${lower}`);
      }
      // Gone while we walk: a concurrent build is replacing OUT; this tree is not one to reuse.
      const st = lstatSync(below(lower, path), { throwIfNoEntry: false });
      if (st === undefined) return false;
      const inode = `${st.dev}:${st.ino}`;
      hash.update(fingerprintLine(path, st, st.nlink - (added.get(inode) ?? 0)));
      if (st.isDirectory()) {
        mkdirSync(below(to, path), 0o700);
        dirs.push({ path, st });
        if (!(await walk(path))) return false;
        continue;
      }
      if (!link(below(lower, path), below(to, path))) return false;
      added.set(inode, (added.get(inode) ?? 0) + 1);
    }
    return true;
  };
  return (await walk('')) && `sha256:${hash.digest('hex')}` === fingerprint ? dirs : undefined;
}

/**
 * Hard-links `from` to `to`; false where the file system cannot (OUT is a mount point of its own, an inode has too many
 * links) or `from` vanished.
 */
function link(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (err) {
    // ENOENT: the old output is going away under a concurrent build.
    if (['EXDEV', 'EMLINK', 'EPERM', 'ENOENT'].includes((err as NodeJS.ErrnoException).code ?? '')) return false;
    throw err;
  }
}

/** True for an empty directory (not a symlink to one). */
export function emptyDir(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() === true && (readNames(path)?.length ?? 1) === 0;
}

/** The names in a directory; undefined when it cannot be read (EACCES, ENOENT, ENOTDIR). */
function readNames(dir: string): string[] | undefined {
  return ifReadable(() => readdirSync(dir));
}

/**
 * {@link readNames}, asking the thread pool to read each subdirectory meanwhile: after a cache drop the walk waits on
 * one directory block after another, and these reads run while it lstat-s this directory's entries.
 */
function readNamesReadingAhead(dir: string): string[] | undefined {
  const entries = ifReadable(() => readdirSync(dir, { withFileTypes: true }));
  if (entries === undefined) return undefined;
  for (const e of entries) if (e.isDirectory()) readdir(below(dir, e.name), () => undefined);
  return entries.map((e) => e.name);
}
