// Findings that never stop a build: what LinuxKit accepts but a user should hear about. Pure.
import { posix } from 'node:path';
import {
  isRelativeDestination,
  isVolumeMount,
  isVolumeSource,
  mountDestination,
  mountType,
  parseBind,
} from './binds.js';
import type { ContainerFields, MountEntry, Section } from './schema.js';
import type { DocPath } from './doc-path.js';

/** The warning codes of system files and labels: a subset of `WarningCode` (lib/warnings.ts, README "Warnings"). */
export type ConfigWarningCode =
  | 'LKVOL_WARN_RELATIVE_DESTINATION'
  | 'LKVOL_WARN_LINUXKIT_IGNORES'
  | 'LKVOL_WARN_AMBIGUOUS_ID'
  | 'LKVOL_WARN_HOST_PATH_DOTDOT';

/** A warning at a path inside a container entry or label. */
export interface FieldWarning {
  path: DocPath;
  code: ConfigWarningCode;
  message: string;
}

/** Warnings about one container entry or image label: relative destinations and fields LinuxKit ignores. */
export function entryWarnings(entry: ContainerFields): FieldWarning[] {
  return [...relativeDestinations(entry), ...ignoredByLinuxkit(entry), ...dotdotSources(entry)];
}

/**
 * Host-path sources with a `..` segment: what they mean is resolved lexically on the booted system,
 * and a reader of the file should see it (with --policy such a source is an error).
 */
function dotdotSources(entry: ContainerFields): FieldWarning[] {
  const out: FieldWarning[] = [];
  const check = (path: DocPath, source: string): void => {
    if (isVolumeSource(source) || !source.split('/').includes('..')) return;
    out.push({
      path,
      code: 'LKVOL_WARN_HOST_PATH_DOTDOT',
      message: `host path ${JSON.stringify(source)} contains "..": it means ${posix.normalize(source)}; write that`,
    });
  };
  for (const key of ['binds', 'binds.add'] as const) {
    (entry[key] ?? []).forEach((b, i) => {
      const parsed = parseBind(b);
      if (parsed.ok) check([key, i], parsed.bind.source);
    });
  }
  (entry.mounts ?? []).forEach((m, i) => {
    if (mountType(m) === 'bind' && m.source !== undefined) check(['mounts', i, 'source'], m.source);
  });
  return out;
}

function relativeWarning(path: DocPath, destination: string): FieldWarning {
  const absolute = `/${destination}`;
  return {
    path,
    code: 'LKVOL_WARN_RELATIVE_DESTINATION',
    message: `destination ${JSON.stringify(destination)} is relative: kept as written, as LinuxKit does, but the OCI runtime spec deprecates it (runc mounts it at ${JSON.stringify(absolute)}); write ${JSON.stringify(absolute)}`,
  };
}

/** Host binds, tmpfs and non-volume mounts with a relative destination (a volume's is an error, see volume-refs.ts). */
function relativeDestinations(entry: ContainerFields): FieldWarning[] {
  const out: FieldWarning[] = [];
  for (const key of ['binds', 'binds.add'] as const) {
    (entry[key] ?? []).forEach((b, i) => {
      const parsed = parseBind(b);
      if (parsed.ok && !isVolumeSource(parsed.bind.source) && isRelativeDestination(parsed.bind.destination))
        out.push(relativeWarning([key, i], parsed.bind.destination));
    });
  }
  (entry.tmpfs ?? []).forEach((t, i) => {
    const destination = t.split(':')[0] ?? '';
    if (isRelativeDestination(destination)) out.push(relativeWarning(['tmpfs', i], destination));
  });
  (entry.mounts ?? []).forEach((m, i) => {
    const destination = mountDestination(m);
    if (!isVolumeMount(m) && destination !== undefined && isRelativeDestination(destination))
      out.push(relativeWarning(['mounts', i, 'destination'], destination));
  });
  return out;
}

/**
 * Fields LinuxKit's schema accepts and its YAML reader then drops: go-yaml matches the OCI structs'
 * fields by their lower-cased Go names (`kerneltcp`), while the schema only allows the camelCase
 * ones (`kernelTCP`), so the value never reaches the spec (an id mapping's hostID and containerID
 * become 0). lkvol applies them; the warning says the same file gives another spec under LinuxKit.
 */
const droppedByLinuxkit: readonly (readonly string[])[] = [
  ['resources', 'memory', 'kernelTCP'],
  ['resources', 'memory', 'disableOOMKiller'],
  ['resources', 'cpu', 'realtimeRuntime'],
  ['resources', 'cpu', 'realtimePeriod'],
  ['resources', 'blockio', 'leafWeight'],
  ['resources', 'blockio', 'weightDevice'],
  ['resources', 'blockio', 'throttleReadBpsDevice'],
  ['resources', 'blockio', 'throttleWriteBpsDevice'],
  ['resources', 'blockio', 'throttleReadIOPSDevice'],
  ['resources', 'blockio', 'throttleWriteIOPSDevice'],
  ['resources', 'hugepageLimits'],
  ['resources', 'network', 'classID'],
];

function ignoredByLinuxkit(entry: ContainerFields): FieldWarning[] {
  const out: FieldWarning[] = [];
  const ignored = (path: DocPath, field: string): void =>
    void out.push({
      path,
      code: 'LKVOL_WARN_LINUXKIT_IGNORES',
      message: `LinuxKit ignores ${JSON.stringify(field)} here (its YAML reader only knows ${JSON.stringify(field.toLowerCase())}, which its schema refuses); lkvol applies it`,
    });
  for (const path of droppedByLinuxkit) {
    if (valueAt(entry, path) !== undefined) ignored(path, path[path.length - 1]!);
  }
  const mappings = (base: DocPath, list: readonly { hostID?: number; containerID?: number }[] | undefined): void => {
    (list ?? []).forEach((m, i) => {
      for (const field of ['hostID', 'containerID'] as const)
        if (m[field] !== undefined && m[field] !== 0) ignored([...base, i, field], field);
    });
  };
  mappings(['uidMappings'], entry.uidMappings);
  mappings(['gidMappings'], entry.gidMappings);
  const mountMappings = (base: DocPath, mounts: readonly MountEntry[] | undefined): void => {
    (mounts ?? []).forEach((m, i) => {
      mappings([...base, i, 'uidmappings'], m.uidmappings);
      mappings([...base, i, 'gidmappings'], m.gidmappings);
    });
  };
  mountMappings(['mounts'], entry.mounts);
  mountMappings(['runtime', 'mounts'], entry.runtime?.mounts);
  return out;
}

function valueAt(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** A container name used more than once across onboot, onshutdown and services, and where. */
export interface RepeatedName {
  /** Each use, in LinuxKit's id order (onboot, onshutdown, services): `onboot[3]` and its place. */
  uses: { where: string; section: Section }[];
  /** The id LinuxKit and lkvol give the name: the last use's. */
  id: number;
}

/** The ids a container entry (or label, or `files:` entry) names: uid, gid, additionalGids. */
export interface IdFields {
  uid?: string | number | undefined;
  gid?: string | number | undefined;
  additionalGids?: (string | number)[] | undefined;
}

/**
 * uid/gid/additionalGids naming a container whose name repeats: the id is the last one's, which may not be the one
 * meant.
 */
export function idWarnings(entry: IdFields, repeated: ReadonlyMap<string, RepeatedName>): FieldWarning[] {
  const out: FieldWarning[] = [];
  const check = (path: DocPath, field: string, value: string | number | undefined): void => {
    const r = typeof value === 'string' ? repeated.get(value) : undefined;
    if (r === undefined) return;
    const uses = r.uses.map((u) => u.where).join(', ');
    out.push({
      path,
      code: 'LKVOL_WARN_AMBIGUOUS_ID',
      message: `${field} ${JSON.stringify(value)} names ${r.uses.length} containers (${uses}); as in LinuxKit it is the id of the last, ${r.id}: write the number if another is meant`,
    });
  };
  check(['uid'], 'uid', entry.uid);
  check(['gid'], 'gid', entry.gid);
  (entry.additionalGids ?? []).forEach((g, i) => check(['additionalGids', i], `additionalGids[${i}]`, g));
  return out;
}
