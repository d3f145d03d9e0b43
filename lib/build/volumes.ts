// Writes one volume: lower/ (blank, an unpacked image, or an OCI layout), tmp/ and merged/.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadedVolume } from '../config/index.js';
import { wrapError } from '../errors.js';
import type { VolumeReport } from '../layer/index.js';
import { formatPlatform } from '../oci/index.js';
import { formatReference } from '../ref/index.js';
import type { ResolvedImage } from '../registry/index.js';
import { volumeLimits, type ResolvedBuildOptions } from './options.js';
import type { LayerRecord, SkippedRecord, VolumeRecord } from './record.js';
import type { PullSession } from '../pull/index.js';
import { summarizeTree } from './tree.js';
import { writeOciLayout } from './oci-layout.js';
import { reusedRecord, reuseTree, volumeInputs, volumeTree } from './reuse.js';
import type { Adoption } from './output.js';
import type { FingerprintWalks } from './fingerprints.js';
import { layerEvents, unpackWithRetry } from './unpack.js';
import { extractProvisioned, provisionerInputs, type ProvisionerRuns } from './provision.js';

export interface VolumeJob {
  volume: LoadedVolume;
  /** `<staging>/containers/volumes/<name>` */
  dir: string;
  session: PullSession;
  options: ResolvedBuildOptions;
  /**
   * The volume of the same name in the previous output, when it has one: its record and that output (OUT, resolved).
   */
  previous?: { record: VolumeRecord; out: string } | undefined;
  /** The build's provisioner runs (each runs once, maybe already for the no-change check). */
  provisioners: ProvisionerRuns;
  /** The build's fingerprint walks (the previous trees', started early). */
  walks?: FingerprintWalks | undefined;
  /**
   * Takes an intact unchanged tree of the previous output for the promote step to move into staging
   * (output.ts); without it such a tree is hard-linked into staging.
   */
  adopt?: ((tree: Adoption) => void) | undefined;
}

/** Creates the volume's directories and fills lower/. Throws what the pull or the extraction throws. */
export async function writeVolume(job: VolumeJob): Promise<VolumeRecord> {
  const { volume, dir, options } = job;
  const lower = join(dir, 'lower');
  try {
    for (const sub of ['lower', 'tmp', 'merged']) await mkdir(join(dir, sub), { recursive: true });
  } catch (err) {
    throw wrapError(err, 'LKVOL_IO', `volume "${volume.name}": create ${dir}`);
  }
  const provisionerName =
    volume.provisioner === undefined
      ? undefined
      : (volume.provisioner.command?.join(' ') ?? `lkvol-provisioner-${volume.provisioner.name ?? ''}`);
  options.onEvent({
    kind: 'volume-start',
    volume: volume.name,
    image: volume.ref === undefined ? undefined : formatReference(volume.ref),
    ...(provisionerName === undefined ? {} : { provisioner: provisionerName }),
  });
  let image: ResolvedImage | undefined;
  let layoutDigest: string | undefined;
  let layers: LayerRecord[] = [];
  let report: VolumeReport | undefined;
  let inputs: string | undefined;
  let provisioner: VolumeRecord['provisioner'];
  if (volume.provisioner !== undefined) {
    const provisioned = { ...volume, provisioner: volume.provisioner };
    const output = await job.provisioners.run(provisioned);
    provisioner = { command: output.command, paramsDigest: output.paramsDigest, streamDigest: output.streamDigest };
    inputs = provisionerInputs(output, volumeLimits(volume, options.limits), options.applyOwnership);
    const reused = await reuse(job, inputs, lower);
    if (reused !== undefined) return { ...reused, readonly: volume.readonly, provisioner };
    report = await extractProvisioned(provisioned, output, { root: lower, options });
  } else if (volume.ref !== undefined && volume.format === 'oci') {
    ({ digest: layoutDigest, layers } = await writeOciLayout({
      volume,
      session: job.session,
      ref: volume.ref,
      root: lower,
    }));
  } else if (volume.ref !== undefined) {
    image = await job.session.resolve(volume.ref);
    inputs = volumeInputs(image, volumeLimits(volume, options.limits), options.applyOwnership);
    const reused = await reuse(job, inputs, lower);
    if (reused !== undefined) return reusedRecord(reused, volume, image);
    ({ layers, report } = await unpackWithRetry({
      what: `volume "${volume.name}"`,
      ref: volume.ref,
      image,
      root: lower,
      limits: volumeLimits(volume, options.limits),
      session: job.session,
      options,
      ...layerEvents(options.onEvent, { volume: volume.name }),
    }));
  }
  const tree = await summarizeTree(lower, {
    intended: report?.intended,
    contentDigests: report?.contentDigests,
    skipped: report?.skipped,
    signal: options.signal,
  }).catch((err: unknown) => {
    throw wrapError(err, 'LKVOL_IO', `volume "${volume.name}": read back ${lower}`);
  });
  options.onEvent({ kind: 'volume-done', volume: volume.name, files: tree.files, bytes: tree.bytes, reused: false });
  return {
    name: volume.name,
    image: volume.ref === undefined ? null : formatReference(volume.ref),
    digest: layoutDigest ?? image?.digest ?? null,
    manifest: image?.manifestDigest ?? null,
    platform: image === undefined ? null : formatPlatform(image.platform),
    format: volume.format,
    readonly: volume.readonly,
    layers,
    files: tree.files,
    bytes: tree.bytes,
    contentDigest: tree.digest,
    ...(tree.ownership.length === 0 ? {} : { ownership: tree.ownership }),
    ...(report === undefined || report.skipped.length === 0 ? {} : { skipped: report.skipped.map(skippedRecord) }),
    ...(inputs === undefined ? {} : { inputs, fingerprint: tree.fingerprint }),
    ...(provisioner === undefined ? {} : { provisioner }),
  };
}

/**
 * The previous output's record of the volume when its inputs are unchanged and its tree is intact,
 * after handing that tree to `job.adopt` or linking it into staging (see reuse.ts); undefined when
 * the volume must be extracted.
 */
async function reuse(job: VolumeJob, inputs: string, lower: string): Promise<VolumeRecord | undefined> {
  const previous = job.previous;
  const tree = volumeTree(job.volume.name);
  if (previous === undefined) return undefined;
  if (previous.record.inputs !== inputs) {
    job.walks?.drop(previous.out, tree.tree);
    return undefined;
  }
  const reused = await reuseTree({
    out: previous.out,
    ...tree,
    previous: previous.record,
    signal: job.options.signal,
    to: lower,
    applyOwnership: job.options.applyOwnership,
    adopt: job.adopt,
    walks: job.walks,
  }).catch((err: unknown) => {
    throw wrapError(err, 'LKVOL_IO', `volume "${job.volume.name}": reuse ${join(previous.out, tree.tree)}`);
  });
  if (!reused) return undefined;
  job.options.onEvent({
    kind: 'volume-done',
    volume: job.volume.name,
    files: previous.record.files,
    bytes: previous.record.bytes,
    reused: true,
  });
  return previous.record;
}

export function skippedRecord(e: VolumeReport['skipped'][number]): SkippedRecord {
  return {
    path: e.path,
    type: e.kind,
    mode: e.mode.toString(8).padStart(4, '0'),
    uid: e.uid,
    gid: e.gid,
    major: e.devmajor,
    minor: e.devminor,
    mtime: e.mtime,
  };
}
