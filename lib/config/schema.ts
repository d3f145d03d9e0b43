// The zod schema of a LinuxKit system file: the single source of truth for its shape and types.
import * as z from 'zod';

const str = z.string();
const strList = z.array(str);
/** LinuxKit accepts a numeric id or a name (resolved through its id map). */
const idValue = z.union([z.number().int().nonnegative(), str]);

const idMapping = z.strictObject({
  hostID: z.number().int().nonnegative(),
  containerID: z.number().int().nonnegative(),
  size: z.number().int().positive(),
});

/** An OCI mount as written in `mounts:` (runtime-spec field names). */
export const mountSchema = z.strictObject({
  destination: str.optional(),
  type: str.optional(),
  source: str.optional(),
  options: strList.optional(),
  uidMappings: z.array(idMapping).optional(),
  gidMappings: z.array(idMapping).optional(),
  /** LinuxKit's spelling (its schema; go-yaml lower-cases OCI field names). The loader renames it to uidMappings. */
  uidmappings: z.array(idMapping).optional(),
  /** LinuxKit's spelling; the loader renames it to gidMappings. */
  gidmappings: z.array(idMapping).optional(),
});

/**
 * A device, every key optional as in LinuxKit's schema: `{path: all, type: b}` allows a whole class
 * (a device-cgroup rule, no node); any other path is a node and needs a type and an octal mode
 * (checked in container-fields.ts); major and minor default to 0, as in LinuxKit.
 */
const deviceSchema = z.strictObject({
  path: str.optional(),
  type: str.optional(),
  major: z.number().int().optional(),
  minor: z.number().int().optional(),
  mode: str.optional(),
});

const deviceRule = z.strictObject({
  allow: z.boolean(),
  type: str.optional(),
  major: z.number().int().optional(),
  minor: z.number().int().optional(),
  access: str.optional(),
});

const weightDevice = z.strictObject({
  major: z.number().int(),
  minor: z.number().int(),
  weight: z.number().int().optional(),
  leafWeight: z.number().int().optional(),
});
const throttleDevice = z.strictObject({ major: z.number().int(), minor: z.number().int(), rate: z.number().int() });

const blockIOSchema = z
  .strictObject({
    weight: z.number().int().optional(),
    leafWeight: z.number().int().optional(),
    weightDevice: z.array(weightDevice).optional(),
    throttleReadBpsDevice: z.array(throttleDevice).optional(),
    throttleWriteBpsDevice: z.array(throttleDevice).optional(),
    throttleReadIOPSDevice: z.array(throttleDevice).optional(),
    throttleWriteIOPSDevice: z.array(throttleDevice).optional(),
  })
  .optional();

/** OCI LinuxResources (runtime-spec config-linux.md). */
export const resourcesSchema = z.strictObject({
  devices: z.array(deviceRule).optional(),
  memory: z
    .strictObject({
      limit: z.number().int().optional(),
      reservation: z.number().int().optional(),
      swap: z.number().int().optional(),
      kernel: z.number().int().optional(),
      kernelTCP: z.number().int().optional(),
      swappiness: z.number().int().nonnegative().optional(),
      disableOOMKiller: z.boolean().optional(),
      useHierarchy: z.boolean().optional(),
      checkBeforeUpdate: z.boolean().optional(),
    })
    .optional(),
  cpu: z
    .strictObject({
      shares: z.number().int().nonnegative().optional(),
      quota: z.number().int().optional(),
      burst: z.number().int().nonnegative().optional(),
      period: z.number().int().nonnegative().optional(),
      realtimeRuntime: z.number().int().optional(),
      realtimePeriod: z.number().int().nonnegative().optional(),
      cpus: str.optional(),
      mems: str.optional(),
      idle: z.number().int().optional(),
    })
    .optional(),
  pids: z.strictObject({ limit: z.number().int() }).optional(),
  blockIO: blockIOSchema,
  /** LinuxKit's spelling (its schema; go-yaml lower-cases OCI field names). The loader renames it to blockIO. */
  blockio: blockIOSchema,
  hugepageLimits: z.array(z.strictObject({ pageSize: str, limit: z.number().int() })).optional(),
  network: z
    .strictObject({
      classID: z.number().int().optional(),
      priorities: z.array(z.strictObject({ name: str, priority: z.number().int() })).optional(),
    })
    .optional(),
});

const interfaceSchema = z.strictObject({
  name: str.optional(),
  add: str.optional(),
  peer: str.optional(),
  createInRoot: z.boolean().optional(),
});

const bindNSSchema = z.strictObject({
  cgroup: str.optional(),
  ipc: str.optional(),
  mnt: str.optional(),
  net: str.optional(),
  pid: str.optional(),
  user: str.optional(),
  uts: str.optional(),
});

/** LinuxKit's `runtime:` block, written to runtime.json. */
export const runtimeSchema = z.strictObject({
  cgroups: strList.optional(),
  mounts: z.array(mountSchema).optional(),
  mkdir: strList.optional(),
  interfaces: z.array(interfaceSchema).optional(),
  bindNS: bindNSSchema.optional(),
  namespace: str.optional(),
});

/**
 * Every field of LinuxKit's ImageConfig (not the OCI image config of oci/schema.ts): what a container
 * entry and the `org.mobyproject.config` image label may set. Absent and empty are distinct (LinuxKit
 * uses pointers).
 */
export const containerFieldsSchema = z.strictObject({
  capabilities: strList.optional(),
  'capabilities.add': strList.optional(),
  ambient: strList.optional(),
  mounts: z.array(mountSchema).optional(),
  binds: strList.optional(),
  'binds.add': strList.optional(),
  devices: z.array(deviceSchema).optional(),
  tmpfs: strList.optional(),
  command: strList.optional(),
  env: strList.optional(),
  cwd: str.optional(),
  net: str.optional(),
  pid: str.optional(),
  ipc: str.optional(),
  uts: str.optional(),
  userns: str.optional(),
  hostname: str.optional(),
  readonly: z.boolean().optional(),
  maskedPaths: strList.optional(),
  readonlyPaths: strList.optional(),
  uid: idValue.optional(),
  gid: idValue.optional(),
  additionalGids: z.array(idValue).optional(),
  noNewPrivileges: z.boolean().optional(),
  oomScoreAdj: z.number().int().min(-1000).max(1000).optional(),
  rootfsPropagation: str.optional(),
  cgroupsPath: str.optional(),
  resources: resourcesSchema.optional(),
  sysctl: z.record(str, str).optional(),
  rlimits: strList.optional(),
  uidMappings: z.array(idMapping).optional(),
  gidMappings: z.array(idMapping).optional(),
  annotations: z.record(str, str).optional(),
  runtime: runtimeSchema.optional(),
});

/** One onboot, services or onshutdown entry. */
export const containerSchema = containerFieldsSchema.extend({
  name: str.min(1, 'must not be empty'),
  image: str.min(1, 'must not be empty'),
});

/** A size such as `512Mi`, `2G`, `1048576` (bytes). */
export const sizeSchema = z.union([
  z.number().int().positive(),
  str.regex(/^\d+(?:\.\d+)?(?:[KMGTP]i?|[kmgtp]i?)?[bB]?$/, 'must be a size such as 512Mi, 2G or 1048576'),
]);

/** A top-level `volumes:` entry (SPEC §1.1). */
export const volumeSchema = z.strictObject({
  name: str,
  image: str.min(1, 'must not be empty; leave image out for a blank volume').optional(),
  readonly: z.boolean().optional(),
  format: z.enum(['filesystem', 'oci']).optional(),
  platforms: strList.optional(),
  sizeLimit: sizeSchema.optional(),
  /** lkvol extension: a program that writes the volume's content as a tar stream on stdout. */
  provisioner: z
    .strictObject({
      name: str.optional(),
      command: z.array(str).min(1, 'must name a program').optional(),
      params: z.record(z.string(), z.unknown()).optional(),
      timeout: str.optional(),
    })
    .optional(),
});

const kernelSchema = z.strictObject({
  image: str.optional(),
  cmdline: str.optional(),
  binary: str.optional(),
  tar: str.optional(),
  ucode: str.optional(),
});

const fileSchema = z.strictObject({
  path: str,
  directory: z.boolean().optional(),
  symlink: str.optional(),
  contents: str.optional(),
  source: str.optional(),
  metadata: str.optional(),
  optional: z.boolean().optional(),
  mode: str.optional(),
  uid: idValue.optional(),
  gid: idValue.optional(),
});

const trustSchema = z.strictObject({ image: strList.optional(), org: strList.optional() });

/** One system file as written (before merging). */
export const systemFileSchema = z.strictObject({
  kernel: kernelSchema.optional(),
  init: strList.optional(),
  onboot: z.array(containerSchema).optional(),
  onshutdown: z.array(containerSchema).optional(),
  services: z.array(containerSchema).optional(),
  files: z.array(fileSchema).optional(),
  trust: trustSchema.optional(),
  volumes: z.array(volumeSchema).optional(),
});

export type MountEntry = z.infer<typeof mountSchema>;
export type RuntimeConfig = z.infer<typeof runtimeSchema>;
export type ContainerFields = z.infer<typeof containerFieldsSchema>;
export type ContainerEntry = z.infer<typeof containerSchema>;
export type VolumeEntry = z.infer<typeof volumeSchema>;
export type SystemFile = z.infer<typeof systemFileSchema>;
export type Section = 'onboot' | 'services' | 'onshutdown';
export const sections: readonly Section[] = ['onboot', 'services', 'onshutdown'];
