// A rebuild that would write exactly what OUT holds leaves OUT alone: nothing to pull, unpack, link or rename.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config, LoadedVolume } from '../config/index.js';
import type { EventSink } from '../events.js';
import type { VolumeLimits } from '../layer/index.js';
import { serializeSpec } from '../spec/index.js';
import type { RenderedContainer } from './containers.js';
import type { BuildRecord, VolumeRecord } from './record.js';
import { emptyDir, reusedRecord, volumeInputs, volumeIntact } from './reuse.js';
import type { PullSession } from './session.js';

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
  applyOwnership: boolean;
  sourceDateEpoch: number | undefined;
  signal: AbortSignal | undefined;
  onEvent: EventSink;
}

/**
 * The record of OUT when building now would give OUT byte for byte (volumes unchanged and intact,
 * the same specs, the same lkvol.json, nothing else in containers/), else undefined. Then OUT is
 * left as it is: the outcome of a build through staging would be the same tree. Volumes in
 * `format: oci` always make it undefined (their layouts are rewritten). Only reads.
 */
export async function unchangedOutput(c: UnchangedCheck): Promise<BuildRecord | undefined> {
  if (c.sourceDateEpoch !== undefined && (await mtimeOf(join(c.out, 'lkvol.json'))) !== c.sourceDateEpoch * 1000) return undefined;
  const volumes: VolumeRecord[] = [];
  for (const volume of c.config.volumes) {
    const record = await unchangedVolume(c, volume);
    if (record === undefined) return undefined;
    volumes.push(record);
  }
  const record: BuildRecord = { ...c.record, images: c.images(volumes), volumes };
  if ((await readFile(join(c.out, 'lkvol.json'), 'utf8').catch(() => '')) !== serializeSpec(record)) return undefined;
  for (const container of c.containers) {
    for (const [name, text] of container.files) if ((await readFile(join(c.out, container.path, name), 'utf8').catch(() => '')) !== text) return undefined;
  }
  if (!sameEntries(await listOutput(join(c.out, 'containers')), expectedEntries(c))) return undefined;
  for (const v of volumes) {
    c.onEvent({ kind: 'volume-start', volume: v.name, image: v.image ?? undefined });
    c.onEvent({ kind: 'volume-done', volume: v.name, files: v.files, bytes: v.bytes, reused: true });
  }
  return record;
}

/** The volume's record as this build would write it, when OUT's copy is unchanged and intact. */
async function unchangedVolume(c: UnchangedCheck, volume: LoadedVolume): Promise<VolumeRecord | undefined> {
  const previous = c.previous.volumes.find((v) => v.name === volume.name);
  const dir = join(c.out, 'containers', 'volumes', volume.name);
  if (previous === undefined || volume.format !== previous.format || volume.format === 'oci') return undefined;
  if (volume.ref === undefined) {
    // A blank volume: three empty directories, recorded as such.
    if (previous.image !== null || !['lower', 'tmp', 'merged'].every((d) => emptyDir(join(dir, d)))) return undefined;
    return { ...previous, readonly: volume.readonly };
  }
  const image = await c.session.resolve(volume.ref);
  if (previous.inputs !== volumeInputs(image, c.limitsOf(volume), c.applyOwnership)) return undefined;
  if (!(await volumeIntact({ from: dir, previous, signal: c.signal }))) return undefined;
  return reusedRecord(previous, volume, image);
}

/** Every path a build writes below `containers/` (volume contents aside), with its type. */
function expectedEntries(c: UnchangedCheck): Set<string> {
  const out = new Set<string>();
  const dirs = (path: string) => {
    for (let p = path; p !== '.' && p !== ''; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) out.add(`dir ${p}`);
  };
  for (const v of c.config.volumes) for (const sub of ['lower', 'tmp', 'merged']) dirs(`volumes/${v.name}/${sub}`);
  for (const container of c.containers) {
    const rel = container.path.slice('containers/'.length);
    dirs(rel);
    for (const name of container.files.keys()) out.add(`file ${rel}/${name}`);
  }
  return out;
}

/** What `containers/` of OUT holds, without descending into volumes' `lower/`. */
async function listOutput(root: string): Promise<Set<string>> {
  const found = new Set<string>();
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      found.add(`${e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other'} ${path}`);
      if (e.isDirectory() && !/^volumes\/[^/]+\/lower$/.test(path)) await walk(path);
    }
  };
  await walk('');
  return found;
}

function sameEntries(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

async function mtimeOf(path: string): Promise<number | undefined> {
  return (await lstat(path).catch(() => undefined))?.mtimeMs;
}
