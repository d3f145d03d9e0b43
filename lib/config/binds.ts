// Bind strings (`source:destination[:opt,opt]`) and volume references in binds and mounts. Pure.
import type { MountEntry } from './schema.js';

/** A parsed bind string. */
export interface Bind {
  source: string;
  destination: string;
  /** The comma-separated options as written; empty when none were given. */
  options: string[];
}

/** Result of parsing a bind: the bind, or why it is malformed. */
export type BindParse = { ok: true; bind: Bind } | { ok: false; reason: string };

/** Parses `src:dest[:opts]` as LinuxKit does (split on every `:`). */
export function parseBind(s: string): BindParse {
  const parts = s.split(':');
  if (parts.length < 2)
    return {
      ok: false,
      reason: `cannot parse bind ${JSON.stringify(s)}: missing ':' (want source:destination[:options])`,
    };
  if (parts.length > 3)
    return {
      ok: false,
      reason: `cannot parse bind ${JSON.stringify(s)}: too many ':' (want source:destination[:options])`,
    };
  const [source = '', destination = '', opts] = parts;
  if (source === '') return { ok: false, reason: `bind ${JSON.stringify(s)} has an empty source` };
  const options = opts === undefined || opts === '' ? [] : opts.split(',').map((o) => o.trim());
  return { ok: true, bind: { source, destination, options } };
}

/**
 * Why a destination is refused, or undefined. Every destination must be non-empty and free of `..`;
 * a volume's must also be absolute (it is lkvol's own mount). Other mounts keep a relative
 * destination as LinuxKit does (see `isRelativeDestination`).
 */
export function checkDestination(destination: string, opts: { volume: boolean }): string | undefined {
  if (destination === '') return 'destination must not be empty';
  if (opts.volume && !destination.startsWith('/'))
    return `destination ${JSON.stringify(destination)} must be an absolute path`;
  if (destination.split('/').includes('..')) return `destination ${JSON.stringify(destination)} must not contain ".."`;
  return undefined;
}

/**
 * True for a destination relative to `/`: valid in the OCI runtime spec but deprecated (runc mounts
 * it below the root), and kept as written, as LinuxKit does (`writeable-host-etc` in its own tests).
 */
export function isRelativeDestination(destination: string): boolean {
  return destination !== '' && !destination.startsWith('/');
}

/** The destination of a `mounts:` entry: as written, or the type's usual place when empty (LinuxKit). */
export function mountDestination(mount: MountEntry): string | undefined {
  if (mount.destination) return mount.destination;
  const type = mountType(mount);
  return type === undefined ? undefined : defaultMountpoint(type);
}

/** The type of a `mounts:` entry: as written, else inferred from its source or destination (LinuxKit). */
export function mountType(mount: MountEntry): string | undefined {
  return mount.type || inferMountType(mount);
}

/** True when the source names a volume rather than a host path (LinuxKit: does not start with `/`). */
export function isVolumeSource(source: string): boolean {
  return !source.startsWith('/');
}

/** True when `ro` appears anywhere in the options (`rshared,ro` is read-only). */
export function isReadOnlyOptions(options: readonly string[]): boolean {
  return options.includes('ro');
}

/** True for a `mounts:` entry that binds a volume: type `bind` and a source not starting with `/`. */
export function isVolumeMount(m: MountEntry): m is MountEntry & { source: string } {
  return m.type === 'bind' && m.source !== undefined && isVolumeSource(m.source);
}

/** The directory a volume is mounted from inside the booted system (SPEC §2). */
export function volumeMergedPath(name: string): string {
  return `/containers/volumes/${name}/merged`;
}

/** LinuxKit infers a missing mount type from well-known sources, and tmpfs for `/dev`. */
export function inferMountType(mount: MountEntry): string | undefined {
  if (mount.source !== undefined && ['mqueue', 'devpts', 'proc', 'sysfs', 'cgroup'].includes(mount.source))
    return mount.source;
  if (mount.destination === '/dev') return 'tmpfs';
  return undefined;
}

/** LinuxKit's default destination for a mount of `type` without one. */
export function defaultMountpoint(type: string): string | undefined {
  const places: Record<string, string> = {
    proc: '/proc',
    devpts: '/dev/pts',
    sysfs: '/sys',
    cgroup: '/sys/fs/cgroup',
    mqueue: '/dev/mqueue',
  };
  return places[type];
}
