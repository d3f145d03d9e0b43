// config.json `linux`: namespaces, devices, resources, sysctl, id mappings, paths and propagation.
import { buildDevices } from './devices.js';
import { buildNamespaces } from './namespaces.js';
import type { MergedConfig, SpecLinux, SpecResources } from './types.js';

/**
 * The `linux` object of a merged entry (LinuxKit ConfigToOCI): every field is a whole replacement,
 * YAML over label; `resources` is always present (`{}` when empty) and gets one allow rule per
 * device appended to `resources.devices`. Empty values are left out, as Go's omitempty does.
 *
 * @throws LkvolError `LKVOL_CONFIG_INVALID` from devices.
 */
export function buildLinux(merged: MergedConfig): SpecLinux {
  const { devices, rules } = buildDevices(merged);
  const resources = omitEmpty(structuredClone(merged.resources ?? {})) as SpecResources;
  if (rules.length > 0) resources.devices = [...(resources.devices ?? []), ...rules];
  const linux: SpecLinux = { resources, namespaces: buildNamespaces(merged) };
  if (nonEmpty(merged.uidMappings)) linux.uidMappings = [...merged.uidMappings];
  if (nonEmpty(merged.gidMappings)) linux.gidMappings = [...merged.gidMappings];
  if (merged.sysctl !== undefined && Object.keys(merged.sysctl).length > 0) linux.sysctl = { ...merged.sysctl };
  if (merged.cgroupsPath) linux.cgroupsPath = merged.cgroupsPath;
  if (devices.length > 0) linux.devices = devices;
  if (merged.rootfsPropagation) linux.rootfsPropagation = merged.rootfsPropagation;
  if (nonEmpty(merged.maskedPaths)) linux.maskedPaths = [...merged.maskedPaths];
  if (nonEmpty(merged.readonlyPaths)) linux.readonlyPaths = [...merged.readonlyPaths];
  return linux;
}

function nonEmpty<T>(list: readonly T[] | undefined): list is readonly T[] {
  return list !== undefined && list.length > 0;
}

/** Drops empty lists and empty strings, as Go's omitempty does when LinuxKit re-encodes resources. */
function omitEmpty(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(omitEmpty);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = omitEmpty(v);
  }
  return out;
}
