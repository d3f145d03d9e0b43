// runtime.json: LinuxKit's `Runtime` with every key filled, after the rootfs mounts ImageBundle prepends.
import type { MountEntry, RuntimeConfig } from '../config/schema.js';
import type { RuntimeInterface, RuntimeJson, SpecMount } from './types.js';

const bindNSKeys = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts'] as const;

/**
 * The mounts LinuxKit's ImageBundle (moby/build/images.go) puts first in runtime.json, performed
 * by pkg/init before the container starts. A writable container gets a tmpfs on `<bundle>/tmp`,
 * remounted private so no one else sees the layers, and an overlay on `<bundle>/rootfs` of
 * `<bundle>/lower` with upper and work dirs in the tmpfs. A read-only container gets a bind of
 * `<bundle>/rootfs` onto itself, since runc wants the rootfs to be a mount point. `imageRoot` is where
 * the image's files are when an earlier bundle of the same image holds them (LinuxKit's dupMap): the
 * overlay's lower dir, or the bind's source. Paths may be given with or without their leading `/`;
 * paths here are absolute.
 */
export function rootfsMounts(opts: {
  bundlePath: string;
  readonly: boolean;
  imageRoot?: string | undefined;
}): SpecMount[] {
  const bundle = absolute(opts.bundlePath);
  const root =
    opts.imageRoot === undefined ? `${bundle}/${opts.readonly ? 'rootfs' : 'lower'}` : absolute(opts.imageRoot);
  if (opts.readonly) return [{ destination: `${bundle}/rootfs`, source: root, options: ['bind'] }];
  const tmp = `${bundle}/tmp`;
  return [
    { destination: tmp, type: 'tmpfs', source: 'tmpfs' },
    { destination: tmp, options: ['remount', 'private'] },
    {
      destination: `${bundle}/rootfs`,
      type: 'overlay',
      source: 'overlay',
      options: [`lowerdir=${root}`, `upperdir=${tmp}/upper`, `workdir=${tmp}/work`],
    },
  ];
}

function absolute(path: string): string {
  return `/${path.replace(/^\/+|\/+$/g, '')}`;
}

/**
 * runtime.json for a merged `runtime` (already YAML over label per key): every key present, as
 * LinuxKit's assignRuntime fills them (`[]`, `""`, and all seven `bindNS` keys), with the rootfs
 * mounts first.
 */
export function buildRuntime(opts: {
  runtime: RuntimeConfig | undefined;
  bundlePath: string;
  readonly: boolean;
  imageRoot?: string | undefined;
}): RuntimeJson {
  const r = opts.runtime ?? {};
  const bindNS = Object.fromEntries(bindNSKeys.map((k) => [k, r.bindNS?.[k] ?? ''])) as RuntimeJson['bindNS'];
  return {
    cgroups: [...(r.cgroups ?? [])],
    mounts: [...rootfsMounts(opts), ...(r.mounts ?? []).map(toSpecMount)],
    mkdir: [...(r.mkdir ?? [])],
    interfaces: (r.interfaces ?? []).map(toInterface),
    bindNS,
    namespace: r.namespace ?? '',
  };
}

/** A runtime mount as written; LinuxKit passes these through unchanged (no inference, no volume rewrite). */
function toSpecMount(m: MountEntry): SpecMount {
  const out: SpecMount = { destination: m.destination ?? '' };
  if (m.type) out.type = m.type;
  if (m.source) out.source = m.source;
  if (m.options !== undefined && m.options.length > 0) out.options = [...m.options];
  if (m.uidMappings !== undefined && m.uidMappings.length > 0) out.uidMappings = [...m.uidMappings];
  if (m.gidMappings !== undefined && m.gidMappings.length > 0) out.gidMappings = [...m.gidMappings];
  return out;
}

function toInterface(i: NonNullable<RuntimeConfig['interfaces']>[number]): RuntimeInterface {
  const out: RuntimeInterface = { createInRoot: i.createInRoot ?? false };
  if (i.name) out.name = i.name;
  if (i.add) out.add = i.add;
  if (i.peer) out.peer = i.peer;
  return out;
}
