// A rebuild that would write exactly what OUT holds leaves OUT alone: nothing to pull, unpack, link or rename.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config, LoadedVolume } from '../config/index.js';
import type { EventSink } from '../events.js';
import type { VolumeLimits } from '../layer/index.js';
import { stableJson } from '../internal/stable-json.js';
import type { RenderedContainer } from './containers.js';
import type { BuildRecord, ContainerRecord, VolumeRecord } from './record.js';
import type { ResolvedImage } from '../registry/index.js';
import { rootfsInputs, rootTree, type ImageRoot } from './rootfs.js';
import { emptyDir, reusedRecord, volumeInputs, volumeIntact, volumeTree } from './reuse.js';
import type { PullSession } from '../pull/index.js';
import { provisionerInputs, type ProvisionerRuns } from './provision.js';
import type { FingerprintWalks } from './fingerprints.js';

/** What {@link unchangedOutput} compares OUT with. */
export interface UnchangedCheck {
  config: Config;
  session: PullSession;
  /** OUT, checked by the output guard: an earlier lkvol output. */
  out: string;
  previous: BuildRecord;
  /** The record this build would write, but for its volumes (filled in here). */
  record: Omit<BuildRecord, 'volumes' | 'images'>;
  /** Builds the `images` map from the volume records. */
  images: (volumes: VolumeRecord[]) => Record<string, string>;
  containers: readonly RenderedContainer[];
  limitsOf: (volume: LoadedVolume) => VolumeLimits;
  /** `--rootfs`: per container (in `containers` order) where its image's files are, and its image. */
  rootfs?: { roots: readonly ImageRoot[]; images: readonly ResolvedImage[]; limits: VolumeLimits } | undefined;
  applyOwnership: boolean;
  /** The build's provisioner runs: a provisioner's volume is unchanged when it wrote the same stream again. */
  provisioners: ProvisionerRuns;
  /** The build's fingerprint walks (the previous trees', started early). */
  walks: FingerprintWalks;
  sourceDateEpoch: number | undefined;
  signal: AbortSignal | undefined;
  onEvent: EventSink;
}

/**
 * The record of OUT when building now would give OUT byte for byte (volumes unchanged and intact,
 * with `--rootfs` bundles' roots too, the same specs, the same lkvol.json, nothing else in containers/), else
 * undefined. Then OUT is left as it is: the outcome of a build through staging would be the same tree. Volumes in
 * `format: oci` always make it undefined (their layouts are rewritten). Only reads.
 */
export async function unchangedOutput(c: UnchangedCheck): Promise<BuildRecord | undefined> {
  if (c.sourceDateEpoch !== undefined && (await mtimeOf(join(c.out, 'lkvol.json'))) !== c.sourceDateEpoch * 1000)
    return undefined;
  // Every volume's inputs first (records and digests only), then the walks of the trees: one changed
  // volume of many stops the check before any tree is walked.
  const candidates = [];
  for (const volume of c.config.volumes) {
    const candidate = await volumeCandidate(c, volume);
    if (candidate === undefined) return undefined;
    candidates.push(candidate);
  }
  const volumes: VolumeRecord[] = [];
  for (const { record, intact } of candidates) {
    if (!(await intact())) return undefined;
    volumes.push(record);
  }
  const containers = await unchangedContainers(c);
  if (containers === undefined) return undefined;
  const record: BuildRecord = { ...c.record, images: c.images(volumes), volumes, containers };
  if ((await readFile(join(c.out, 'lkvol.json'), 'utf8').catch(() => '')) !== stableJson(record)) return undefined;
  for (const container of c.containers) {
    for (const [name, text] of container.files)
      if ((await readFile(join(c.out, container.path, name), 'utf8').catch(() => '')) !== text) return undefined;
  }
  if (!sameEntries(await listOutput(join(c.out, 'containers'), imageTrees(c)), expectedEntries(c))) return undefined;
  for (const v of volumes) {
    c.onEvent({ kind: 'volume-start', volume: v.name, image: v.image ?? undefined });
    c.onEvent({ kind: 'volume-done', volume: v.name, files: v.files, bytes: v.bytes, reused: true });
  }
  for (const x of containers)
    if (x.rootfs?.inputs !== undefined)
      c.onEvent({
        kind: 'rootfs-done',
        bundle: x.path,
        files: x.rootfs.files ?? 0,
        bytes: x.rootfs.bytes ?? 0,
        reused: true,
      });
  return record;
}

/**
 * The container records as this build would write them: with `--rootfs`, each holder's root unchanged and intact in
 * OUT.
 */
async function unchangedContainers(c: UnchangedCheck): Promise<ContainerRecord[] | undefined> {
  if (c.rootfs === undefined) return c.record.containers;
  const out: ContainerRecord[] = [];
  for (const [i, container] of c.containers.entries()) {
    const root = c.rootfs.roots[i]!;
    if (!root.holder) {
      out.push({ ...container.record, rootfs: { path: root.path } });
      continue;
    }
    const previous = c.previous.containers.find(
      (x) => x.path === container.path && x.rootfs?.path === root.path,
    )?.rootfs;
    if (previous?.inputs !== rootfsInputs(c.rootfs.images[i]!, c.rootfs.limits, c.applyOwnership)) return undefined;
    if (!(await volumeIntact({ out: c.out, ...rootTree(container.path, root), previous, signal: c.signal })))
      return undefined;
    out.push({ ...container.record, rootfs: previous });
  }
  return out;
}

/**
 * A volume whose inputs are those recorded in OUT: the record this build would write, and the check that OUT's tree is
 * intact.
 */
interface VolumeCandidate {
  record: VolumeRecord;
  intact: () => Promise<boolean>;
}

/** The volume's candidate record when its inputs are unchanged (nothing below OUT is read yet), else undefined. */
async function volumeCandidate(c: UnchangedCheck, volume: LoadedVolume): Promise<VolumeCandidate | undefined> {
  const previous = c.previous.volumes.find((v) => v.name === volume.name);
  const dir = join(c.out, 'containers', 'volumes', volume.name);
  if (previous === undefined || volume.format !== previous.format || volume.format === 'oci') return undefined;
  const tree = volumeTree(volume.name);
  const intact = () => volumeIntact({ out: c.out, ...tree, previous, signal: c.signal, walks: c.walks });
  const changed = () => {
    c.walks.drop(c.out, tree.tree);
    return undefined;
  };
  if (volume.provisioner !== undefined) {
    // It runs now (once per build: the volume's writer takes the same output if OUT must be rewritten).
    const output = await c.provisioners.run({ ...volume, provisioner: volume.provisioner });
    if (previous.inputs !== provisionerInputs(output, c.limitsOf(volume), c.applyOwnership)) return changed();
    return { record: { ...previous, readonly: volume.readonly }, intact };
  }
  if (volume.ref === undefined) {
    // A blank volume: three empty directories, recorded as such.
    if (previous.image !== null) return undefined;
    return {
      record: { ...previous, readonly: volume.readonly },
      intact: async () => ['lower', 'tmp', 'merged'].every((d) => emptyDir(join(dir, d))),
    };
  }
  const image = await c.session.resolve(volume.ref);
  if (previous.inputs !== volumeInputs(image, c.limitsOf(volume), c.applyOwnership)) return changed();
  return { record: reusedRecord(previous, volume, image), intact };
}

/** Every path a build writes below `containers/` (the contents of image trees aside), with its type. */
function expectedEntries(c: UnchangedCheck): Set<string> {
  const out = new Set<string>();
  const dirs = (path: string) => {
    for (let p = path; p !== '.' && p !== ''; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) out.add(`dir ${p}`);
  };
  for (const v of c.config.volumes) for (const sub of ['lower', 'tmp', 'merged']) dirs(`volumes/${v.name}/${sub}`);
  for (const [i, container] of c.containers.entries()) {
    const rel = container.path.slice('containers/'.length);
    dirs(rel);
    for (const name of container.files.keys()) out.add(`file ${rel}/${name}`);
    const root = c.rootfs?.roots[i];
    if (root === undefined) continue;
    for (const sub of root.readonly ? ['rootfs'] : ['tmp', 'rootfs', ...(root.holder ? ['lower'] : [])])
      dirs(`${rel}/${sub}`);
  }
  return out;
}

/** What `containers/` of OUT holds, without descending into `trees` (image trees, relative to `containers/`). */
async function listOutput(root: string, trees: ReadonlySet<string>): Promise<Set<string>> {
  const found = new Set<string>();
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      found.add(`${e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other'} ${path}`);
      if (e.isDirectory() && !trees.has(path)) await walk(path);
    }
  };
  await walk('');
  return found;
}

/** The image trees below `containers/`: volumes' lower/ and, with `--rootfs`, holders' roots. */
function imageTrees(c: UnchangedCheck): Set<string> {
  const volumes = c.config.volumes.map((v) => `volumes/${v.name}/lower`);
  const roots = (c.rootfs?.roots ?? []).filter((r) => r.holder).map((r) => r.path.slice('containers/'.length));
  return new Set([...volumes, ...roots]);
}

function sameEntries(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

async function mtimeOf(path: string): Promise<number | undefined> {
  return (await lstat(path).catch(() => undefined))?.mtimeMs;
}
