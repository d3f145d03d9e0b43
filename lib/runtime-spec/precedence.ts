// The precedence table (YAML > image label > image config), written once, and the merge it drives.
import { parseBind } from '../config/binds.js';
import type { ContainerEntry, ContainerFields, RuntimeConfig } from '../config/schema.js';
import type { ImageConfigInput, MergedConfig } from './types.js';

/**
 * How one field is merged, following LinuxKit's `assign*` helpers in moby/config.go:
 * - `replace`: a YAML value that is set wins, even when empty (LinuxKit's pointer fields), else the label's.
 * - `replace-non-empty`: as `replace`, but an empty string counts as unset (LinuxKit's `assignStringEmpty`).
 * - `list-plus-add`: the YAML list if set, else the label's; then the label's and the YAML's `.add`
 *   lists appended in that order. SPEC §1.2 fix: LinuxKit drops `.add` when the YAML sets the base list.
 * - `per-key`: `runtime`: each key (and each `bindNS` key) is merged with `replace` (LinuxKit `assignRuntime`).
 */
export type MergeRule = 'replace' | 'replace-non-empty' | 'list-plus-add' | 'per-key';

/** Where a value comes from in the image config when neither label nor YAML sets it. */
export type ImageSource = 'Entrypoint+Cmd' | 'Env' | 'WorkingDir';

/** One row of the precedence table. */
export interface PrecedenceRow {
  field: keyof Omit<MergedConfig, 'name' | 'image'>;
  rule: MergeRule;
  /** The `.add` key merged into this field (`list-plus-add` only). */
  add?: 'binds.add' | 'capabilities.add';
  /** The image config field used when label and YAML leave this field unset. */
  image?: ImageSource;
  /** What the emitted spec holds when nothing sets the field (applied by the emitters; documentation). */
  fallback: string;
}

/** Precedence of every ImageConfig field: YAML > label > image config (LinuxKit moby/config.go ConfigToOCI). */
export const precedenceTable: readonly PrecedenceRow[] = [
  { field: 'command', rule: 'replace', image: 'Entrypoint+Cmd', fallback: 'args left out' },
  { field: 'env', rule: 'replace', image: 'Env', fallback: 'env left out (no PATH injection)' },
  { field: 'cwd', rule: 'replace-non-empty', image: 'WorkingDir', fallback: '/' },
  { field: 'capabilities', rule: 'list-plus-add', add: 'capabilities.add', fallback: 'no capabilities' },
  { field: 'ambient', rule: 'replace', fallback: 'no ambient capabilities' },
  { field: 'binds', rule: 'list-plus-add', add: 'binds.add', fallback: 'no binds' },
  { field: 'mounts', rule: 'replace', fallback: 'no extra mounts' },
  { field: 'tmpfs', rule: 'replace', fallback: 'no tmpfs mounts' },
  { field: 'devices', rule: 'replace', fallback: 'no devices' },
  { field: 'net', rule: 'replace-non-empty', fallback: 'host network namespace' },
  { field: 'pid', rule: 'replace-non-empty', fallback: 'new pid namespace' },
  { field: 'ipc', rule: 'replace-non-empty', fallback: 'host ipc namespace' },
  { field: 'uts', rule: 'replace-non-empty', fallback: 'host uts namespace' },
  { field: 'userns', rule: 'replace-non-empty', fallback: 'host user namespace' },
  { field: 'hostname', rule: 'replace-non-empty', fallback: 'hostname left out' },
  { field: 'readonly', rule: 'replace', fallback: 'false' },
  { field: 'maskedPaths', rule: 'replace', fallback: 'none' },
  { field: 'readonlyPaths', rule: 'replace', fallback: 'none' },
  { field: 'uid', rule: 'replace', fallback: '0 (the image User is ignored, as in LinuxKit)' },
  { field: 'gid', rule: 'replace', fallback: '0' },
  { field: 'additionalGids', rule: 'replace', fallback: 'none' },
  { field: 'noNewPrivileges', rule: 'replace', fallback: 'false' },
  { field: 'oomScoreAdj', rule: 'replace', fallback: 'left out' },
  { field: 'rootfsPropagation', rule: 'replace', fallback: 'left out' },
  { field: 'cgroupsPath', rule: 'replace', fallback: 'left out' },
  { field: 'resources', rule: 'replace', fallback: '{}' },
  { field: 'sysctl', rule: 'replace', fallback: 'none' },
  { field: 'rlimits', rule: 'replace', fallback: 'none' },
  { field: 'uidMappings', rule: 'replace', fallback: 'none' },
  { field: 'gidMappings', rule: 'replace', fallback: 'none' },
  { field: 'annotations', rule: 'replace', fallback: 'none' },
  { field: 'runtime', rule: 'per-key', fallback: 'every runtime.json key empty' },
];

type Fields = Readonly<ContainerFields>;

/**
 * Merges the image label under the YAML entry following `precedenceTable`. Pure; never throws
 * (malformed values are reported by `emitRuntimeSpec`). The image config is applied later by
 * `applyImageConfig`, since it is only known once the image is fetched.
 */
export function resolveContainerConfig(input: {
  yaml: ContainerEntry;
  label: ContainerFields | undefined;
}): MergedConfig {
  const { yaml } = input;
  const label: Fields = input.label ?? {};
  const out: Record<string, unknown> = { name: yaml.name, image: yaml.image };
  for (const row of precedenceTable) {
    const value = mergeField(row, label, yaml);
    if (value !== undefined) out[row.field] = value;
  }
  return out as MergedConfig;
}

/** Fills the rows that have an image source (`command`, `env`, `cwd`) from the image config when still unset. */
export function applyImageConfig(merged: MergedConfig, imageConfig: ImageConfigInput): MergedConfig {
  const out: Record<string, unknown> = { ...merged };
  for (const row of precedenceTable) {
    if (row.image === undefined || !isUnset(row.rule, out[row.field])) continue;
    const value = fromImage(row.image, imageConfig);
    if (value !== undefined) out[row.field] = value;
  }
  return out as MergedConfig;
}

function mergeField(row: PrecedenceRow, label: Fields, yaml: Fields): unknown {
  switch (row.rule) {
    case 'replace':
    case 'replace-non-empty':
      if (!isUnset(row.rule, yaml[row.field])) return yaml[row.field];
      return isUnset(row.rule, label[row.field]) ? undefined : label[row.field];
    case 'list-plus-add':
      return mergeListPlusAdd(row, label, yaml);
    case 'per-key':
      return mergeRuntime(label.runtime, yaml.runtime);
  }
}

function isUnset(rule: MergeRule, value: unknown): boolean {
  return value === undefined || (rule === 'replace-non-empty' && value === '');
}

function mergeListPlusAdd(row: PrecedenceRow, label: Fields, yaml: Fields): string[] | undefined {
  const key = row.field as 'binds' | 'capabilities';
  const add = row.add ?? 'binds.add';
  const lists = [yaml[key] ?? label[key], label[add], yaml[add]].filter((l): l is string[] => l !== undefined);
  if (lists.length === 0) return undefined;
  const keyOf = key === 'binds' ? bindKey : (s: string) => s;
  // A later entry with the same key replaces an earlier one: for binds the key is the destination
  // (as LinuxKit's mount map), for capabilities the name itself (dedup).
  const byKey = new Map<string, string>();
  for (const entry of lists.flat()) {
    const k = keyOf(entry);
    if (key === 'binds') byKey.delete(k);
    if (!byKey.has(k)) byKey.set(k, entry);
  }
  return [...byKey.values()];
}

/** The destination of a bind, or the whole string when it does not parse (emit reports it). */
function bindKey(bind: string): string {
  const p = parseBind(bind);
  return p.ok ? `dest:${p.bind.destination}` : `raw:${bind}`;
}

function mergeRuntime(label: RuntimeConfig | undefined, yaml: RuntimeConfig | undefined): RuntimeConfig | undefined {
  if (label === undefined && yaml === undefined) return undefined;
  const l = label ?? {};
  const y = yaml ?? {};
  const out: Record<string, unknown> = {};
  for (const k of ['cgroups', 'mounts', 'mkdir', 'interfaces', 'namespace'] as const) {
    const v = y[k] ?? l[k];
    if (v !== undefined) out[k] = v;
  }
  if (l.bindNS !== undefined || y.bindNS !== undefined) out['bindNS'] = { ...l.bindNS, ...y.bindNS };
  return out as RuntimeConfig;
}

function fromImage(source: ImageSource, ic: ImageConfigInput): string[] | string | undefined {
  switch (source) {
    case 'Entrypoint+Cmd':
      // LinuxKit: append(config.Entrypoint, config.Cmd...); nil when both are unset.
      return ic.Entrypoint == null && ic.Cmd == null ? undefined : [...(ic.Entrypoint ?? []), ...(ic.Cmd ?? [])];
    case 'Env':
      return ic.Env == null ? undefined : [...ic.Env];
    case 'WorkingDir':
      return ic.WorkingDir == null || ic.WorkingDir === '' ? undefined : ic.WorkingDir;
  }
}
