// config.json mounts: LinuxKit's defaults, then tmpfs, binds and `mounts`, keyed by destination and sorted.
import {
  checkDestination,
  isVolumeMount,
  isVolumeSource,
  mountDestination,
  mountType,
  parseBind,
  volumeMergedPath,
} from '../config/binds.js';
import { invalidConfig } from './fail.js';
import { compareBytes } from '../internal/compare.js';
import type { MergedConfig, MountEntry, SpecMount } from './types.js';

/**
 * The mounts LinuxKit gives every container (moby/config.go ConfigToOCI; "default options match
 * what Docker does", without /dev/shm and /dev/mqueue). `readonly` adds `ro` to /dev and /sys.
 */
export function defaultMounts(opts: { readonly: boolean }): SpecMount[] {
  const ro = opts.readonly ? ['ro'] : [];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'nodev', 'noexec', 'relatime'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k', ...ro],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...ro] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    },
  ];
}

/**
 * Options of a bind: `rw,rbind,rshared` when none are given, else the given options plus `rbind`.
 * SPEC §2 fix (LinuxKit #2877): `rbind` is added only when absent, so `rshared,rbind` keeps one.
 */
export function bindOptions(given: readonly string[]): string[] {
  const opts = given.filter((o) => o !== '');
  if (opts.length === 0) return ['rw', 'rbind', 'rshared'];
  return opts.includes('rbind') ? opts : [...opts, 'rbind'];
}

/**
 * Every mount of config.json: defaults, then `tmpfs`, then `binds`, then `mounts`, a later one
 * replacing an earlier one with the same destination, sorted by destination (so /dev precedes /dev/pts).
 *
 * @throws LkvolError `LKVOL_CONFIG_INVALID` for a malformed tmpfs, bind or mount entry.
 */
export function buildMounts(merged: MergedConfig): SpecMount[] {
  const byDestination = new Map<string, SpecMount>();
  const put = (m: SpecMount): void => void byDestination.set(m.destination, m);
  defaultMounts({ readonly: merged.readonly ?? false }).forEach(put);
  (merged.tmpfs ?? []).forEach((t) => put(tmpfsMount(merged, t)));
  (merged.binds ?? []).forEach((b) => put(bindMount(merged, b)));
  (merged.mounts ?? []).forEach((m) => put(extraMount(merged, m)));
  return [...byDestination.values()].sort((a, b) => compareBytes(a.destination, b.destination));
}

function tmpfsMount(merged: MergedConfig, entry: string): SpecMount {
  const parts = entry.split(':');
  if (parts.length > 2)
    throw invalidConfig(
      merged,
      `cannot parse tmpfs ${JSON.stringify(entry)}: too many ':' (want destination[:options])`,
    );
  const [destination = '', opts] = parts;
  const options = (opts ?? '').split(',').filter((o) => o !== '');
  return withOptions({ destination, type: 'tmpfs', source: 'tmpfs' }, options);
}

/** A bind string as an OCI bind mount; a volume source becomes the volume's merged directory. */
function bindMount(merged: MergedConfig, entry: string): SpecMount {
  const parsed = parseBind(entry);
  if (!parsed.ok) throw invalidConfig(merged, parsed.reason);
  const { source, destination, options } = parsed.bind;
  const bad = checkDestination(destination, { volume: isVolumeSource(source) });
  if (bad !== undefined) throw invalidConfig(merged, `bind ${JSON.stringify(entry)}: ${bad}`);
  const from = isVolumeSource(source) ? volumeMergedPath(source) : source;
  return { destination, type: 'bind', source: from, options: bindOptions(options) };
}

/**
 * A `mounts` entry, with LinuxKit's inference: a missing type comes from a well-known source (or
 * `/dev` means tmpfs), a missing source is the type, a missing destination the type's usual place.
 * SPEC §1.2 fix: a bind of a volume is rewritten to the volume's merged directory (LinuxKit leaves
 * the relative source), with the same options as a volume in `binds`.
 */
function extraMount(merged: MergedConfig, m: MountEntry): SpecMount {
  const type = mountType(m);
  if (type === undefined)
    throw invalidConfig(merged, `mount for destination ${JSON.stringify(m.destination ?? '')} is missing type`);
  const destination = mountDestination(m);
  if (destination === undefined)
    throw invalidConfig(merged, `mount type ${JSON.stringify(type)} is missing destination`);
  const bad = checkDestination(destination, { volume: isVolumeMount(m) });
  if (bad !== undefined)
    throw invalidConfig(
      merged,
      `mount ${isVolumeMount(m) ? `of volume ${JSON.stringify(m.source)}` : `on ${JSON.stringify(destination)}`}: ${bad}`,
    );
  let out: SpecMount = { destination, type, source: m.source || type };
  if (isVolumeMount(m)) {
    out = { ...out, source: volumeMergedPath(m.source), options: bindOptions(m.options ?? []) };
  } else {
    out = withOptions(out, m.options ?? []);
  }
  if (m.uidMappings !== undefined && m.uidMappings.length > 0) out.uidMappings = m.uidMappings;
  if (m.gidMappings !== undefined && m.gidMappings.length > 0) out.gidMappings = m.gidMappings;
  return out;
}

/** Go's omitempty: no `options` key when there are none. */
function withOptions(m: SpecMount, options: readonly string[]): SpecMount {
  return options.length === 0 ? m : { ...m, options: [...options] };
}
