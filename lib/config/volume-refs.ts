// Checks of binds and bind mounts: syntax, destinations, declared volumes and read-only volumes (SPEC §1.2).
import type { ConfigIssue } from '../errors.js';
import {
  checkDestination,
  isReadOnlyOptions,
  isVolumeMount,
  isVolumeSource,
  mountDestination,
  mountType,
  parseBind,
} from './binds.js';
import { issueAt } from './issues.js';
import type { ContainerEntry, MountEntry, VolumeEntry } from './schema.js';
import type { DocPath } from './doc-path.js';
import type { EntrySource, LoadedContainer, LoadedVolume } from './types.js';

/** What a volume name may look like (SPEC §1.1). */
export const volumeNamePattern = /^[a-z0-9_-]+$/;

/** A problem at a path relative to the bind string or mount entry it concerns. */
export interface RefProblem {
  path: DocPath;
  message: string;
}

/** The declared volumes, by name. */
export type VolumeTable = ReadonlyMap<string, VolumeEntry>;

/** Indexes volumes by name (the first declaration wins, as duplicates are reported elsewhere). */
export function volumeTable(volumes: readonly { entry: VolumeEntry }[]): VolumeTable {
  const table = new Map<string, VolumeEntry>();
  for (const v of volumes) if (!table.has(v.entry.name)) table.set(v.entry.name, v.entry);
  return table;
}

/** Whose binds are checked, against which volumes. */
export interface RefContext {
  container: string;
  volumes: VolumeTable;
  /** Where the binds came from when not from the YAML, e.g. an image label. */
  origin?: string | undefined;
}

/** Who a message is about: `container "web"`, plus the origin when there is one. */
function owner(ctx: RefContext): string {
  const name = `container ${JSON.stringify(ctx.container)}`;
  return ctx.origin === undefined ? name : `${name} (${ctx.origin})`;
}

/** Problems with one `src:dest[:opts]` bind. */
export function bindProblems(bind: string, ctx: RefContext): string[] {
  const parsed = parseBind(bind);
  if (!parsed.ok) return [`${owner(ctx)}: ${parsed.reason}`];
  const subject = `${owner(ctx)}: bind ${JSON.stringify(bind)}`;
  const { source, destination, options } = parsed.bind;
  const problems: string[] = [];
  const destProblem = checkDestination(destination, { volume: isVolumeSource(source) });
  if (destProblem !== undefined) problems.push(`${subject}: ${destProblem}`);
  const volumeProblem = isVolumeSource(source) ? checkVolumeUse(source, options, ctx.volumes) : undefined;
  if (volumeProblem?.undeclared === true) problems.push(`${subject}: ${volumeProblem.message}`);
  if (volumeProblem?.undeclared === false) {
    const ro = `${source}:${destination}:${[...options, 'ro'].join(',')}`;
    problems.push(`${subject}: ${volumeProblem.message}; bind it with "ro", e.g. ${JSON.stringify(ro)}`);
  }
  return problems;
}

/** Problems with one `mounts:` entry, each at a path inside the entry. */
export function mountProblems(mount: MountEntry, ctx: RefContext): RefProblem[] {
  const subject = `${owner(ctx)}: mount ${describeMount(mount)}`;
  const problems: RefProblem[] = [];
  const type = mountType(mount);
  if (type === undefined) problems.push({ path: [], message: `${subject} is missing type` });
  // An empty destination takes the type's usual place (LinuxKit); a type without one needs a destination.
  const destination = mountDestination(mount);
  if (destination === undefined && type !== undefined)
    problems.push({ path: [], message: `${subject} is missing destination` });
  const destProblem =
    destination === undefined ? undefined : checkDestination(destination, { volume: isVolumeMount(mount) });
  if (destProblem !== undefined) problems.push({ path: ['destination'], message: `${subject}: ${destProblem}` });
  if (isVolumeMount(mount)) {
    const problem = checkVolumeUse(mount.source, mount.options ?? [], ctx.volumes);
    if (problem?.undeclared === true) problems.push({ path: ['source'], message: `${subject}: ${problem.message}` });
    if (problem?.undeclared === false)
      problems.push({ path: ['options'], message: `${subject}: ${problem.message}; add "ro" to its options` });
  }
  return problems;
}

/** Why `source` cannot be used with `options`: not declared, or read-only and bound read-write. */
function checkVolumeUse(
  source: string,
  options: readonly string[],
  volumes: VolumeTable,
): { undeclared: boolean; message: string } | undefined {
  const volume = volumes.get(source);
  if (volume === undefined) {
    const names = [...volumes.keys()].filter((n) => volumeNamePattern.test(n));
    const declared = names.length === 0 ? 'no volumes are declared' : `declared volumes: ${names.join(', ')}`;
    const message = volumeNamePattern.test(source)
      ? `volume ${JSON.stringify(source)} is not declared (${declared})`
      : `source ${JSON.stringify(source)} is neither an absolute host path nor a volume name (${declared})`;
    return { undeclared: true, message };
  }
  if (volume.readonly === true && !isReadOnlyOptions(options))
    return { undeclared: false, message: `volume ${JSON.stringify(source)} is read-only` };
  return undefined;
}

function describeMount(m: MountEntry): string {
  const what = isVolumeMount(m)
    ? `of volume ${JSON.stringify(m.source)}`
    : m.source === undefined
      ? `of type ${JSON.stringify(m.type ?? '')}`
      : `of ${JSON.stringify(m.source)}`;
  return m.destination ? `${what} on ${JSON.stringify(m.destination)}` : what;
}

/** Issues for a container's YAML `binds`, `binds.add` and `mounts`. */
export function checkContainerRefs(
  c: EntrySource & { entry: Pick<ContainerEntry, 'name' | 'binds' | 'binds.add' | 'mounts'> },
  volumes: VolumeTable,
): ConfigIssue[] {
  const ctx: RefContext = { container: c.entry.name, volumes };
  const issues: ConfigIssue[] = [];
  for (const key of ['binds', 'binds.add'] as const) {
    (c.entry[key] ?? []).forEach((b, i) => {
      for (const message of bindProblems(b, ctx)) issues.push(issueAt(c, [key, i], message));
    });
  }
  (c.entry.mounts ?? []).forEach((m, i) => {
    for (const p of mountProblems(m, ctx)) issues.push(issueAt(c, ['mounts', i, ...p.path], p.message));
  });
  return issues;
}

/** Binds and mounts that did not come from the YAML, where they came from, and the volumes they may name. */
export interface VolumeRefs {
  binds: readonly string[];
  mounts: readonly MountEntry[];
  /** The system's volumes. */
  volumes: readonly LoadedVolume[];
  /** Where the binds and mounts came from, e.g. `label org.mobyproject.config of docker.io/library/x@sha256:…`. */
  origin: string;
}

/**
 * The bind and mount checks of a container, for binds and mounts that did not come from the YAML (the image's
 * `org.mobyproject.config` label, read at build time). Messages read `container "web" (<origin>): bind "…": …`.
 * Issues point at the container's `image` (`services[0].image`).
 * Throw them as `new ConfigError('LKVOL_CONFIG_INVALID', issues)`. Pure; never throws.
 */
export function checkVolumeRefs(container: LoadedContainer, refs: VolumeRefs): ConfigIssue[] {
  const ctx: RefContext = { container: container.name, volumes: volumeTable(refs.volumes), origin: refs.origin };
  const at = (message: string): ConfigIssue => issueAt(container, ['image'], message);
  return [
    ...refs.binds.flatMap((b) => bindProblems(b, ctx).map(at)),
    ...refs.mounts.flatMap((m) => mountProblems(m, ctx).map((p) => at(p.message))),
  ];
}
