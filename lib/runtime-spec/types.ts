// Types of spec's inputs (image config, merged entry) and outputs (OCI runtime spec, LinuxKit runtime.json).
import type { ContainerFields, MountEntry } from '../config/schema.js';

/**
 * The `config` part of an OCI image config that spec reads (image-spec config.md). Docker writes
 * `null` for unset lists, so null is accepted and means unset.
 */
export interface ImageConfigInput {
  Env?: readonly string[] | null | undefined;
  Entrypoint?: readonly string[] | null | undefined;
  Cmd?: readonly string[] | null | undefined;
  WorkingDir?: string | null | undefined;
  Labels?: Readonly<Record<string, string>> | null | undefined;
}

/**
 * A container entry after label and YAML are merged (see `precedenceTable`). The `.add` forms are
 * folded into `binds` and `capabilities`; `name` and `image` come from the YAML and name the
 * container in error messages.
 */
export type MergedConfig = Omit<ContainerFields, 'binds.add' | 'capabilities.add'> & {
  name: string;
  image: string;
};

/** An OCI mount (runtime-spec config.md#mounts). */
export interface SpecMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
}

/** runtime-spec config-linux.md#user-namespace-mappings. */
export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** runtime-spec config.md#linux-process capabilities; every set may be left out when empty. */
export interface SpecCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

/** A POSIX rlimit; soft and hard are uint64, so they are bigint (2^64-1 does not fit a double). */
export interface SpecRlimit {
  type: string;
  hard: bigint;
  soft: bigint;
}

/** runtime-spec config.md#process (Linux fields lkvol sets). */
export interface SpecProcess {
  user: { uid: number; gid: number; additionalGids?: number[] };
  args?: string[];
  env?: string[];
  cwd: string;
  capabilities: SpecCapabilities;
  rlimits?: SpecRlimit[];
  noNewPrivileges?: true;
  oomScoreAdj?: number;
}

/** runtime-spec config-linux.md#namespaces. */
export interface SpecNamespace {
  type: 'network' | 'ipc' | 'uts' | 'pid' | 'user' | 'mount';
  path?: string;
}

/** runtime-spec config-linux.md#devices. */
export interface SpecDevice {
  path: string;
  type: string;
  major: number;
  minor: number;
  fileMode: number;
}

/** runtime-spec config-linux.md#allowed-device-list. */
export interface SpecDeviceRule {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

/** runtime-spec config-linux.md#control-groups (passed through from label/YAML, plus device rules). */
export type SpecResources = Omit<NonNullable<ContainerFields['resources']>, 'devices'> & {
  devices?: SpecDeviceRule[];
};

/** runtime-spec config-linux.md (the fields LinuxKit sets). */
export interface SpecLinux {
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  sysctl?: Record<string, string>;
  resources: SpecResources;
  cgroupsPath?: string;
  namespaces: SpecNamespace[];
  devices?: SpecDevice[];
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

/** An OCI runtime spec (config.json) as LinuxKit's ConfigToOCI builds it. */
export interface RuntimeSpec {
  ociVersion: string;
  process: SpecProcess;
  root: { path: string; readonly?: true };
  hostname?: string;
  mounts: SpecMount[];
  annotations?: Record<string, string>;
  linux: SpecLinux;
}

/** A network interface in runtime.json (LinuxKit `Interface`; `createInRoot` is always written). */
export interface RuntimeInterface {
  name?: string;
  add?: string;
  peer?: string;
  createInRoot: boolean;
}

/** LinuxKit's runtime.json: every key present, bindNS with all seven keys (`""` when unset). */
export interface RuntimeJson {
  cgroups: string[];
  mounts: SpecMount[];
  mkdir: string[];
  interfaces: RuntimeInterface[];
  bindNS: Record<'cgroup' | 'ipc' | 'mnt' | 'net' | 'pid' | 'user' | 'uts', string>;
  namespace: string;
}

export type { MountEntry };
