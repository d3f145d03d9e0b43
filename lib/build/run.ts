// `build`, top to bottom: plan (files, lock, checks) → pull (images, labels, specs rendered) → unpack
// (volumes, --rootfs bundles) → emit (specs, lkvol.json) → publish (OUT swapped, or the tar written); or
// nothing when OUT is current.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import {
  buildIdMap,
  loadConfig,
  repeatedNames,
  type Config,
  type EntrySource,
  type LoadedContainer,
} from '../config/index.js';
import { ConfigError, LkvolError, formatConfigIssue, isLkvolError, withContext, wrapError } from '../errors.js';
import { checkConfigHostPaths, loadPolicy, policyHint, type Policy } from '../policy/index.js';
import { formatPlatform, parsePlatform, type Platform } from '../oci/index.js';
import { formatReference, referenceKey, type NormalizedRef } from '../ref/index.js';
import type { ResolvedImage } from '../registry/index.js';
import { version } from '../version.js';
import {
  containerLabel,
  prepareContainer,
  renderContainer,
  writeContainer,
  type PreparedContainer,
  type RenderedContainer,
} from './containers.js';
import { unchangedOutput } from './up-to-date.js';
import { createLimiter } from '../internal/async.js';
import { resolveBuildOptions, volumeLimits, type BuildOptions, type ResolvedBuildOptions } from './options.js';
import { writeRecord, type BuildRecord, type ContainerRecord, type VolumeRecord } from './record.js';
import { imageRoots, writeRootfs, type ImageRoot } from './rootfs.js';
import { pinConfig, readLockFor } from './lock.js';
import { lockPathFor } from '../lock/index.js';
import { createPullSession, type PullSession } from '../pull/index.js';
import { checkOutput, checkReplaceable, checkTarReplaceable } from './output-guard.js';
import {
  AdoptionLost,
  createFileStaging,
  createStaging,
  discardAfterFailure,
  recoverOutput,
  type Adoption,
} from './output.js';
import { recordInTar, writeTreeTar } from './tar-output.js';
import { checkSources, sourcesHint } from './sources.js';
import { createProvisionerRuns, type ProvisionerRuns } from './provision.js';
import { stampTree } from './epoch.js';
import { readPreviousRecord, reusableTrees } from './reuse.js';
import { createFingerprintWalks, worthAWorker, type FingerprintWalks } from './fingerprints.js';
import { writeVolume } from './volumes.js';

export interface BuildResult {
  /** The output directory written: absolute, symlinks resolved. */
  out: string;
  /** What was written to lkvol.json. */
  record: BuildRecord;
}

/** What every interrupted build says. */
const cancelledHint = 'the previous output was left as it was';

/** Volumes unpacked at once: gunzip runs on libuv's pool, so two keep both cores busy. */
const volumeConcurrency = 2;

/** The system files, pinned and checked: what the build makes, decided before any request. */
interface Plan {
  config: Config;
  policy: Policy | undefined;
  platform: Platform;
}

/** The containers with their images resolved, labels checked and specs rendered: nothing written yet. */
interface Pulled {
  prepared: PreparedContainer[];
  rendered: RenderedContainer[];
  roots: Map<PreparedContainer, ImageRoot>;
}

/** What the steps after planning share. */
interface Run {
  o: ResolvedBuildOptions;
  abort: AbortController;
  /** OUT as checked by `checkOutput` (absolute), or `-`. */
  out: string;
  plan: Plan;
  session: PullSession;
  provisioners: ProvisionerRuns;
  /** Fingerprint walks of the previous output's trees, started before the images resolve. */
  walks: FingerprintWalks;
}

/**
 * Builds the system files into `options.out` (SPEC §2): plan → pull → unpack → emit → publish.
 * Nothing is pulled or written before OUT has passed `checkOutput`, nor written before every
 * reference, label and bind has been checked; the previous output is replaced only when everything
 * succeeded, and left alone when building again would give it byte for byte.
 * @throws LkvolError with any code; LKVOL_OUTPUT_REFUSED when OUT may not be replaced; LKVOL_CANCELLED when
 *   `signal` aborts.
 */
export async function build(options: BuildOptions): Promise<BuildResult> {
  try {
    return await runBuild(options);
  } catch (err) {
    throw asCancellation(err, options.signal);
  }
}

/**
 * A failure while the caller was cancelling is the cancellation (whichever step noticed it, and however: an fs walk
 * stops with the signal's own AbortError); every cancellation says the previous output was left as it was.
 */
function asCancellation(err: unknown, callerSignal: AbortSignal | undefined): unknown {
  if (callerSignal?.aborted === true && !isLkvolError(err, 'LKVOL_CANCELLED'))
    return new LkvolError('LKVOL_CANCELLED', 'build cancelled', { cause: err, hint: cancelledHint });
  // A download interrupted mid-request says so in its own words; the hint is every interruption's.
  if (isLkvolError(err, 'LKVOL_CANCELLED') && err.hint === undefined)
    return new LkvolError('LKVOL_CANCELLED', err.message, { cause: err, hint: cancelledHint, context: err.context });
  return err;
}

async function runBuild(options: BuildOptions): Promise<BuildResult> {
  // One signal for every task: the caller's abort, our own first failure, and the end of the build
  // (so a resolve still running when another failed stops instead of retrying into a closed session).
  const abort = new AbortController();
  const signal = options.signal === undefined ? abort.signal : AbortSignal.any([options.signal, abort.signal]);
  const o = resolveBuildOptions({ ...options, signal });
  const out = await checkOutput(o);
  // A tar is written whole from a fresh tree: there is no previous tree to reuse. Where OUT holds a build, a worker
  // thread starts now, to walk its trees while the plan is made and the images resolve.
  const reuse = o.reuse && o.format === 'dir';
  const early = reuse ? await readPreviousRecord(out) : undefined;
  const walks = createFingerprintWalks({ background: early !== undefined && worthAWorker(early) });
  try {
    const plan = await planBuild(o, out);
    const session = await createPullSession({
      ...o,
      platform: plan.platform,
      dockerConfigPath: o.dockerConfigPath,
      signal: o.signal,
    });
    const provisioners = createProvisionerRuns(session.cache, o);
    // OUT may only be back now (planBuild repairs what a killed build left).
    const previous = reuse ? (early ?? (await readPreviousRecord(out))) : undefined;
    const run: Run = { o, abort, out, plan, session, provisioners, walks };
    try {
      if (previous !== undefined) for (const tree of reusableTrees(plan.config, previous)) walks.prefetch(out, tree);
      const pulled = await pullImages(run);
      throwIfAborted(o.signal);
      const unchanged = previous === undefined ? undefined : await unchangedRecord(run, pulled, previous);
      if (unchanged !== undefined) {
        // Nothing was written; a Ctrl-C during the check is still the user's answer.
        throwIfAborted(o.signal);
        o.onEvent({ kind: 'done', out });
        return { out, record: unchanged };
      }
      return await writeOutput(run, pulled, previous);
    } finally {
      abort.abort();
      await provisioners.discard();
      await session.close();
    }
  } finally {
    walks.close();
  }
}

/**
 * Plan: loads and merges the files, pins them to lkvol.lock, checks provisioners, local images and
 * host binds (against --policy), and, for a directory OUT, repairs what a killed build left.
 */
async function planBuild(o: ResolvedBuildOptions, out: string): Promise<Plan> {
  const platform = parsePlatform(o.platform);
  const loaded = await loadConfig(o.files, { cwd: o.cwd, ...(o.signal === undefined ? {} : { signal: o.signal }) });
  for (const w of loaded.warnings) o.onEvent({ kind: 'warning', code: w.code, message: formatConfigIssue(w) });
  const config = await applyLock(loaded, o);
  for (const section of ignoredSections(config)) o.onEvent({ kind: 'ignored', section });
  // Provisioners and local images are found (not run, not read) before any request.
  const missing = checkSources(config, o.cwd, o.env?.['PATH']);
  if (missing.length > 0) throw new ConfigError('LKVOL_CONFIG_INVALID', missing, { hint: sourcesHint });
  // The system files' own host binds against --policy: before any request.
  const policy = o.policy === undefined ? undefined : await loadPolicy(o.policy, o.cwd);
  const violations = policy === undefined ? [] : checkConfigHostPaths(config, policy);
  if (violations.length > 0) throw new ConfigError('LKVOL_POLICY_VIOLATION', violations, { hint: policyHint });
  if (o.format === 'dir') {
    // A build killed between its two renames left OUT missing: put it back before anything can fail,
    // and check what came back (an earlier lkvol output passes).
    await repairOutput(out);
    await checkReplaceable(o.out, out);
  }
  return { config, policy, platform };
}

/**
 * Pull: resolves every image (volumes' in parallel with containers'), checks each container's label
 * and binds, and renders its spec; layers are fetched later, as they are unpacked.
 */
async function pullImages(run: Run): Promise<Pulled> {
  const { o, plan } = run;
  const prepared = await prepareContainers(plan.config, run.session, plan.policy);
  for (const p of prepared) for (const w of p.warnings) o.onEvent({ kind: 'warning', ...w });
  const idMap = buildIdMap(plan.config);
  const roots = imageRoots(prepared);
  const rendered = prepared.map((p) => renderContainer(p, idMap, roots.get(p)!.path));
  return { prepared, rendered, roots };
}

/** The record of the previous OUT when building now would give it byte for byte (see up-to-date.ts). */
function unchangedRecord(run: Run, pulled: Pulled, previous: BuildRecord): Promise<BuildRecord | undefined> {
  const { o, plan } = run;
  return unchangedOutput({
    config: plan.config,
    session: run.session,
    out: run.out,
    previous,
    record: baseRecord(plan, pulled),
    images: (v) => imageDigests(v, pulled.prepared),
    containers: pulled.rendered,
    rootfs: rootfsInputs(o, pulled),
    provisioners: run.provisioners,
    walks: run.walks,
    limitsOf: (v) => volumeLimits(v, o.limits),
    applyOwnership: o.applyOwnership,
    sourceDateEpoch: o.sourceDateEpoch,
    signal: o.signal,
    onEvent: o.onEvent,
  });
}

/**
 * Unpack, emit, publish: the volumes and bundles unpacked, the specs and lkvol.json written, all in
 * a staging tree that then replaces OUT (or becomes the tar). A failure removes the staging tree.
 */
async function writeOutput(run: Run, pulled: Pulled, previous: BuildRecord | undefined): Promise<BuildResult> {
  const { o, out, plan } = run;
  // Directories beside OUT the build could not remove: reported, not thrown, as recovery tries them again next time.
  const leftBehind = (code: 'LKVOL_WARN_STAGING_LEFT' | 'LKVOL_WARN_PREVIOUS_LEFT', e: LkvolError) =>
    o.onEvent({ kind: 'warning', code, message: `${e.message}; the next build into OUT tries again to remove it` });
  // Tar output is built as a tree too, beside the tar file (or, for stdout, in the cache directory), then
  // written out and removed.
  const staging = await createStaging(out === '-' ? join(o.cacheDir, 'stdout-build') : out, (e) =>
    leftBehind('LKVOL_WARN_PREVIOUS_LEFT', e),
  );
  try {
    // Unchanged volumes and bundle roots of OUT are moved into the new OUT at the swap, rather than linked now and
    // unlinked after. Not into a tar, and not when SOURCE_DATE_EPOCH stamps the staging tree before the swap.
    const adopting = o.format !== 'tar' && o.sourceDateEpoch === undefined;
    const adopted = { volumes: new Map<string, Adoption>(), roots: new Map<string, Adoption>() };
    let volumes = await writeVolumes(run, staging.dir, {
      previousBuild: previous,
      adopt: adopting ? adopted.volumes : undefined,
    });
    let containers = await writeContainers(run, pulled, staging.dir, {
      previous,
      adopt: adopting ? adopted.roots : undefined,
    });
    const recordOf = (vs: VolumeRecord[], cs: ContainerRecord[]): BuildRecord => ({
      ...baseRecord(plan, pulled),
      images: imageDigests(vs, pulled.prepared),
      volumes: vs,
      containers: cs,
    });
    const full = recordOf(volumes, containers);
    let record = o.format === 'tar' ? recordInTar(full) : full;
    await writeRecord(staging.dir, record);
    if (o.sourceDateEpoch !== undefined)
      await stampTree(
        staging.dir,
        o.sourceDateEpoch,
        unpackedDirs(staging.dir, plan.config, o.rootfs ? [...pulled.roots.values()] : []),
      );
    throwIfAborted(o.signal);
    if (o.format === 'tar') {
      await publishTar(staging.dir, full, o, out);
      await staging.discard();
    } else {
      // The build may have run for minutes: OUT must still be something a build may replace.
      await checkReplaceable(o.out, out);
      try {
        await staging.promote([...adopted.volumes.values(), ...adopted.roots.values()]);
      } catch (err) {
        if (!(err instanceof AdoptionLost)) throw err;
        // A concurrent build replaced OUT meanwhile: link or extract those volumes and roots after all, then swap.
        const volumesAgain = await writeVolumes(run, staging.dir, {
          previousBuild: previous,
          only: new Set(adopted.volumes.keys()),
        });
        volumes = volumes.map((v) => volumesAgain.find((a) => a.name === v.name) ?? v);
        const only = new Set(adopted.roots.keys());
        const containersAgain = await writeContainers(run, pulled, staging.dir, { previous, only });
        containers = containers.map((c) => containersAgain.find((a) => a.path === c.path) ?? c);
        record = recordOf(volumes, containers);
        await writeRecord(staging.dir, record);
        await checkReplaceable(o.out, out);
        await staging.promote();
      }
    }
    o.onEvent({ kind: 'done', out });
    return { out, record };
  } catch (err) {
    await discardAfterFailure(staging, (e) => leftBehind('LKVOL_WARN_STAGING_LEFT', e));
    // build() reports it, as the cancellation it is when the user was cancelling.
    throw err;
  }
}

/**
 * Emits each container's spec files into staging (`only` the bundles at those paths), and with --rootfs unpacks its
 * image into its bundle; a failure names the container (the extractor's errors name only the layer and the entry).
 * With `adopt`, unchanged intact roots of OUT are collected there by bundle path, for the swap to move, instead of
 * being linked into staging.
 */
async function writeContainers(
  run: Run,
  pulled: Pulled,
  staging: string,
  scope: {
    previous: BuildRecord | undefined;
    adopt?: Map<string, Adoption> | undefined;
    only?: ReadonlySet<string> | undefined;
  },
): Promise<ContainerRecord[]> {
  const { o, out } = run;
  const { previous, adopt, only } = scope;
  const bundle = async (rendered: RenderedContainer, prepared: PreparedContainer): Promise<ContainerRecord> => {
    const record = await writeContainer(rendered, staging);
    if (!o.rootfs) return record;
    const rootfs = await writeRootfs({
      prepared,
      rendered,
      root: pulled.roots.get(prepared)!,
      staging,
      session: run.session,
      options: o,
      previous: previous === undefined ? undefined : { record: previous, out },
      adopt: adopt === undefined ? undefined : (tree) => adopt.set(rendered.path, tree),
    });
    return { ...record, rootfs };
  };
  const containers: ContainerRecord[] = [];
  for (const [i, rendered] of pulled.rendered.entries()) {
    if (only !== undefined && !only.has(rendered.path)) continue;
    containers.push(
      await bundle(rendered, pulled.prepared[i]!).catch((err: unknown) => {
        throw withContext(err, rendered.label);
      }),
    );
  }
  return containers;
}

/** lkvol.json's fields known before anything is unpacked. */
function baseRecord(plan: Plan, pulled: Pulled): Pick<BuildRecord, 'lkvolVersion' | 'platform' | 'containers'> {
  return {
    lkvolVersion: version,
    platform: formatPlatform(plan.platform),
    containers: pulled.rendered.map((c) => c.record),
  };
}

/** With --rootfs, the bundles' image roots and images, for the no-change check. */
function rootfsInputs(o: ResolvedBuildOptions, pulled: Pulled) {
  if (!o.rootfs) return undefined;
  return {
    roots: pulled.prepared.map((p) => pulled.roots.get(p)!),
    images: pulled.prepared.map((p) => p.image),
    limits: o.limits,
  };
}

/**
 * Writes the finished tree as a tar: to `o.stdout` for `-`, else to a temporary sibling of OUT renamed
 * onto it (OUT checked again first: it may have changed while the build ran). Synthesised entries are
 * dated `SOURCE_DATE_EPOCH`, else 0.
 */
async function publishTar(tree: string, record: BuildRecord, o: ResolvedBuildOptions, out: string): Promise<void> {
  const epoch = o.sourceDateEpoch ?? 0;
  if (out === '-') {
    await writeTreeTar(tree, { record, epoch, out: o.stdout!, signal: o.signal }).catch((err: unknown) => {
      throw wrapError(err, 'LKVOL_IO', 'write the tar to stdout');
    });
    return;
  }
  const file = createFileStaging(out);
  const stream = createWriteStream(file.path, { flags: 'wx', mode: 0o644 });
  try {
    await writeTreeTar(tree, { record, epoch, out: stream, signal: o.signal });
    await checkTarReplaceable(o.out, out);
    await file.promote();
  } catch (err) {
    stream.destroy();
    await file.discard().catch(() => {});
    throw wrapError(err, 'LKVOL_IO', `write ${file.path}`);
  }
}

/** The sections of LinuxKit's image the files set and lkvol does not build. */
function ignoredSections(config: Config): ('kernel' | 'init' | 'files' | 'trust')[] {
  const set = {
    kernel: config.kernel !== undefined,
    init: config.init.length > 0,
    files: config.fileEntries.length > 0,
    trust: config.trust.image.length + config.trust.org.length > 0,
  };
  return (['kernel', 'init', 'files', 'trust'] as const).filter((k) => set[k]);
}

/** `file:line:col` of an entry's image. */
function where(src: EntrySource): string {
  const p = src.positionOf(['image']);
  return `${p.file}:${p.line}:${p.column}`;
}

/** Pins the config's references to lkvol.lock beside the first file, when there is one (see lock.ts), saying so. */
async function applyLock(config: Config, o: ResolvedBuildOptions): Promise<Config> {
  const lockPath = lockPathFor(o.files, o.cwd);
  const found = await readLockFor(o.files, o.cwd);
  const { config: pinned, pinned: pins, unpinned } = pinConfig(config, found, { locked: o.locked, lockPath });
  for (const p of pins) o.onEvent({ kind: 'pinned', image: p.image, digest: p.digest, lock: lockPath });
  for (const u of unpinned)
    o.onEvent({
      kind: 'warning',
      code: 'LKVOL_WARN_NOT_LOCKED',
      message: `${u.where}: ${u.image} is not in ${lockPath}: resolved from its tag; run \`lkvol lock\` to pin it`,
    });
  return pinned;
}

/** Resolves every container image and checks its label before any layer is pulled. */
async function prepareContainers(
  config: Config,
  session: PullSession,
  policy: Policy | undefined,
): Promise<PreparedContainer[]> {
  const all: LoadedContainer[] = [...config.onboot, ...config.services, ...config.onshutdown];
  // Volume images resolve in parallel with container images; their layers wait for the checks below.
  const volumes = config.volumes.filter((v) => v.ref !== undefined && v.format !== 'oci');
  // A registry error names the entry and where the files write its image: the first entry naming it, as
  // entries of one image share one resolve, and so one error.
  const named = new Map<string, Promise<ResolvedImage>>();
  const resolve = (ref: NormalizedRef, entry: string, src: EntrySource) => {
    const key = referenceKey(ref);
    const image =
      named.get(key) ??
      session.resolve(ref).catch((err: unknown) => {
        throw withContext(err, `${entry} (${where(src)})`);
      });
    named.set(key, image);
    return image;
  };
  const [images] = await Promise.all([
    Promise.all(all.map((c) => resolve(c.ref, containerLabel(c), c))),
    Promise.all(volumes.map((v) => resolve(v.ref!, `volume "${v.name}"`, v))),
  ]);
  const repeated = repeatedNames(config);
  return all.map((c, i) => {
    try {
      return prepareContainer(c, images[i]!, { volumes: config.volumes, repeated, policy });
    } catch (err) {
      // A broken label names its image; say which entry brought it in.
      throw withContext(err, `${containerLabel(c)} (${where(c)})`);
    }
  });
}

/**
 * Unpacks every volume (`only` those named), at most `volumeConcurrency` at once; the first failure cancels
 * the rest and is the one reported. With `adopt`, unchanged intact trees of OUT are collected there by
 * volume name, for the swap to move, instead of being linked into staging.
 */
async function writeVolumes(
  run: Run,
  staging: string,
  scope: {
    previousBuild: BuildRecord | undefined;
    adopt?: Map<string, Adoption> | undefined;
    only?: ReadonlySet<string> | undefined;
  },
): Promise<VolumeRecord[]> {
  const { abort, o } = run;
  const { previousBuild, adopt, only } = scope;
  const limit = createLimiter(volumeConcurrency);
  const base = join(staging, 'containers', 'volumes');
  let first: LkvolError | undefined;
  const volumes = run.plan.config.volumes.filter((v) => only === undefined || only.has(v.name));
  const jobs = volumes.map((volume) =>
    limit(async () => {
      if (abort.signal.aborted) throw new LkvolError('LKVOL_CANCELLED', `volume "${volume.name}": cancelled`);
      const record = previousBuild?.volumes.find((v) => v.name === volume.name);
      const previous = record === undefined ? undefined : { record, out: run.out };
      return writeVolume({
        volume,
        dir: join(base, volume.name),
        session: run.session,
        options: o,
        previous,
        provisioners: run.provisioners,
        walks: run.walks,
        adopt: adopt === undefined ? undefined : (tree) => adopt.set(volume.name, tree),
      });
    }).catch((err: unknown) => {
      first ??= wrapError(err, 'LKVOL_IO', `volume "${volume.name}"`).addContext(`volume "${volume.name}"`);
      abort.abort();
      throw err;
    }),
  );
  const settled = await Promise.allSettled(jobs);
  if (first !== undefined) throw first;
  return settled.map((r) => (r as PromiseFulfilledResult<VolumeRecord>).value);
}

function imageDigests(volumes: VolumeRecord[], prepared: PreparedContainer[]): Record<string, string> {
  const images: Record<string, string> = {};
  for (const v of volumes) if (v.image !== null && v.digest !== null) images[v.image] = v.digest;
  for (const p of prepared) images[formatReference(p.container.ref)] = p.image.digest;
  return images;
}

/**
 * The directories whose content came from image layers (their own times are kept): volumes' lower/, bundles'
 * image roots.
 */
function unpackedDirs(staging: string, config: Config, roots: readonly ImageRoot[]): Set<string> {
  const volumes = config.volumes
    .filter((v) => (v.ref !== undefined || v.provisioner !== undefined) && v.format === 'filesystem')
    .map((v) => join(staging, 'containers', 'volumes', v.name, 'lower'));
  return new Set([...volumes, ...roots.filter((r) => r.holder).map((r) => join(staging, r.path))]);
}

/** Runs the crash recovery of output.ts; a missing parent directory simply has nothing to recover. */
async function repairOutput(out: string): Promise<void> {
  try {
    await recoverOutput(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw wrapError(err, 'LKVOL_IO', {
        message: `recover output ${out}`,
        hint: 'check that the parent directory of OUT is writable',
      });
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new LkvolError('LKVOL_CANCELLED', 'build cancelled', { hint: cancelledHint });
}
