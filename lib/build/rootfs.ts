// Where each container's image files live in its bundle (LinuxKit's ImageBundle and its dupMap), and `--rootfs`:
// unpacking them there.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { wrapError } from '../errors.js';
import { formatReference, referenceKey } from '../ref/index.js';
import { bundlePath } from '../runtime-spec/index.js';
import type { PreparedContainer, RenderedContainer } from './containers.js';
import type { ResolvedBuildOptions } from './options.js';
import type { VolumeLimits } from '../layer/index.js';
import type { ResolvedImage } from '../registry/index.js';
import type { BuildRecord, RootfsRecord } from './record.js';
import { reuseTree, volumeInputs, type ReuseOptions } from './reuse.js';
import type { Adoption } from './output.js';
import type { PullSession } from '../pull/index.js';
import { containerSkeleton, skeletonLayerName, skeletonVersion } from './skeleton.js';
import { summarizeTree } from './tree.js';
import { layerEvents, unpackWithRetry } from './unpack.js';
import { skippedRecord } from './volumes.js';

/** Where a container's image files are, below OUT. */
export interface ImageRoot {
  /** `containers/onboot/000-a/lower` (or `…/rootfs` for a read-only container). */
  path: string;
  /** True for the container that holds the files; the others of the same image use its directory. */
  holder: boolean;
  readonly: boolean;
}

/** LinuxKit's order of bundles (moby/build/build.go): onboot, onshutdown, services. */
const bundleOrder = { onboot: 0, onshutdown: 1, services: 2 } as const;

/**
 * LinuxKit's dupMap: in onboot, onshutdown, services order, the first container of each image (the
 * reference as written, normalised) holds its files, in `lower/` or, read-only, `rootfs/`; every later
 * one mounts that directory (runtime.json), whatever its own `readonly`.
 */
export function imageRoots(prepared: readonly PreparedContainer[]): Map<PreparedContainer, ImageRoot> {
  const ordered = [...prepared].sort(
    (a, b) =>
      bundleOrder[a.container.section] - bundleOrder[b.container.section] || a.container.index - b.container.index,
  );
  const first = new Map<string, string>();
  const roots = new Map<PreparedContainer, ImageRoot>();
  for (const p of ordered) {
    const readonly = p.merged.readonly ?? false;
    const own = `${bundlePath(p.container.section, p.container.index, p.container.name)}/${readonly ? 'rootfs' : 'lower'}`;
    const key = referenceKey(p.container.ref);
    const held = first.get(key);
    if (held === undefined) first.set(key, own);
    roots.set(p, { path: held ?? own, holder: held === undefined, readonly });
  }
  return roots;
}

export interface RootfsJob {
  prepared: PreparedContainer;
  rendered: RenderedContainer;
  root: ImageRoot;
  staging: string;
  session: PullSession;
  options: ResolvedBuildOptions;
  /**
   * The previous output's record, when reuse is on: an unchanged, intact root of the same bundle is reused, not
   * unpacked.
   */
  previous?: { record: BuildRecord; out: string } | undefined;
  /**
   * Takes an intact unchanged root of the previous output for the promote step to move into staging (output.ts);
   * without it such a root is hard-linked into staging.
   */
  adopt?: ((tree: Adoption) => void) | undefined;
}

/** Everything that decides a bundle root's tree: a volume's inputs (see reuse.ts) and LinuxKit's changes. */
export function rootfsInputs(image: ResolvedImage, limits: VolumeLimits, applyOwnership: boolean): string {
  const inputs = { kind: 'rootfs', tree: volumeInputs(image, limits, applyOwnership), skeleton: skeletonVersion };
  return `sha256:${createHash('sha256').update(JSON.stringify(inputs)).digest('hex')}`;
}

/**
 * A holder's root and the directories beside it that must be empty (for reuse): tmp/ and rootfs/ of a writable bundle.
 */
export function rootTree(bundle: string, root: ImageRoot): Pick<ReuseOptions, 'tree' | 'empty'> {
  return { tree: root.path, empty: root.readonly ? [] : [`${bundle}/tmp`, `${bundle}/rootfs`] };
}

/**
 * `--rootfs`: the bundle's directories as ImageBundle writes them — `lower/`, `tmp/` and an empty
 * `rootfs/` (overlay mount point), or `rootfs/` alone when read-only — with the image unpacked into
 * the holder's `lower/` or `rootfs/` under the volumes' extraction rules and limits, then LinuxKit's
 * changes to a container image (skeleton.ts). Throws what the pull or the extraction throws (the caller
 * names the container).
 */
export async function writeRootfs(job: RootfsJob): Promise<RootfsRecord> {
  const { prepared, rendered, root, staging, options } = job;
  const bundle = join(staging, rendered.path);
  const dirs = root.readonly ? ['rootfs'] : ['tmp', 'rootfs', ...(root.holder ? ['lower'] : [])];
  try {
    for (const d of dirs) await mkdir(join(bundle, d), { recursive: true });
  } catch (err) {
    throw wrapError(err, 'LKVOL_IO', `${rendered.label}: create ${bundle}`);
  }
  if (!root.holder) return { path: root.path };
  const dir = join(staging, root.path);
  const limits = {
    maxBytes: options.limits.maxBytes,
    maxEntries: options.limits.maxEntries,
    maxDepth: options.limits.maxDepth,
  };
  const inputs = rootfsInputs(prepared.image, limits, options.applyOwnership);
  const reused = await reuseRoot(job, inputs, dir);
  if (reused !== undefined) return reused;
  const image = formatReference(prepared.container.ref);
  options.onEvent({ kind: 'rootfs-start', bundle: rendered.path, image });
  const { layers, report } = await unpackWithRetry({
    what: rendered.label,
    ref: prepared.container.ref,
    image: prepared.image,
    root: dir,
    limits,
    session: job.session,
    options,
    ...layerEvents(options.onEvent, { bundle: rendered.path }),
    finalLayer: async (at) => ({ name: skeletonLayerName, tar: await containerSkeleton(at) }),
  });
  const tree = await summarizeTree(dir, {
    intended: report.intended,
    contentDigests: report.contentDigests,
    skipped: report.skipped,
    signal: options.signal,
  }).catch((err: unknown) => {
    throw wrapError(err, 'LKVOL_IO', `${rendered.label}: read back ${dir}`);
  });
  options.onEvent({ kind: 'rootfs-done', bundle: rendered.path, files: tree.files, bytes: tree.bytes, reused: false });
  const skipped = report.skipped.map(skippedRecord);
  return {
    path: root.path,
    layers,
    files: tree.files,
    bytes: tree.bytes,
    contentDigest: tree.digest,
    ...(tree.ownership.length === 0 ? {} : { ownership: tree.ownership }),
    ...(skipped.length === 0 ? {} : { skipped }),
    inputs,
    fingerprint: tree.fingerprint,
  };
}

/**
 * The previous record of this bundle's root when its inputs are unchanged and its tree is intact, after handing it to
 * `job.adopt` or linking it into staging.
 */
async function reuseRoot(job: RootfsJob, inputs: string, dir: string): Promise<RootfsRecord | undefined> {
  const { previous, rendered, root, options } = job;
  const record = previous?.record.containers.find(
    (c) => c.path === rendered.path && c.rootfs?.path === root.path,
  )?.rootfs;
  if (previous === undefined || record?.inputs !== inputs) return undefined;
  const tree = rootTree(rendered.path, root);
  const reused = await reuseTree({
    out: previous.out,
    ...tree,
    to: dir,
    previous: record,
    applyOwnership: options.applyOwnership,
    signal: options.signal,
    adopt: job.adopt,
  }).catch((err: unknown) => {
    throw wrapError(err, 'LKVOL_IO', `${rendered.label}: reuse ${join(previous.out, tree.tree)}`);
  });
  if (!reused) return undefined;
  options.onEvent({
    kind: 'rootfs-done',
    bundle: rendered.path,
    files: record.files ?? 0,
    bytes: record.bytes ?? 0,
    reused: true,
  });
  return record;
}
