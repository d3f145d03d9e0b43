// linux.devices and their cgroup allow rules from `devices` entries (LinuxKit ConfigToOCI).
import { invalidConfig } from './fail.js';
import type { MergedConfig, SpecDevice, SpecDeviceRule } from './types.js';

/** Devices to create in the container and the matching `linux.resources.devices` rules. */
export interface BuiltDevices {
  devices: SpecDevice[];
  rules: SpecDeviceRule[];
}

/**
 * Each device adds a `linux.devices` entry (mode parsed as octal, required) and an allow rule with
 * access `rwm` for its type, major and minor, since the device cgroup must allow what is created.
 * `path: all` only adds the rule `{allow: true, type, access: rwm}` (a whole device class).
 *
 * @throws LkvolError `LKVOL_CONFIG_INVALID` when a mode is missing or not octal (0 to 7777).
 */
export function buildDevices(merged: MergedConfig): BuiltDevices {
  const out: BuiltDevices = { devices: [], rules: [] };
  for (const d of merged.devices ?? []) {
    if (d.path === 'all') {
      out.rules.push(d.type === '' ? { allow: true, access: 'rwm' } : { allow: true, type: d.type, access: 'rwm' });
      continue;
    }
    const fileMode = parseMode(merged, d);
    out.devices.push({ path: d.path, type: d.type, major: d.major, minor: d.minor, fileMode });
    const rule: SpecDeviceRule = { allow: true, type: d.type, major: d.major, minor: d.minor, access: 'rwm' };
    if (d.type === '') delete rule.type;
    out.rules.push(rule);
  }
  return out;
}

function parseMode(merged: MergedConfig, device: { path: string; mode: string }): number {
  const { path, mode } = device;
  // LinuxKit: strconv.ParseInt(mode, 8, 32) then os.FileMode; bits above 07777 would be Go file-type bits.
  const value = /^[0-7]+$/.test(mode) ? parseInt(mode, 8) : NaN;
  if (!(value <= 0o7777)) {
    throw invalidConfig(merged, `device ${JSON.stringify(path)}: cannot parse mode ${JSON.stringify(mode)} as an octal value`, {
      hint: 'write the mode as an octal string such as "0660"',
    });
  }
  return value;
}
