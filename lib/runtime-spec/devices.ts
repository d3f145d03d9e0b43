// linux.devices and their cgroup allow rules from `devices` entries (LinuxKit ConfigToOCI).
import { invalidConfig } from './fail.js';
import type { MergedConfig, SpecDevice, SpecDeviceRule } from './types.js';

/** Devices to create in the container and the matching `linux.resources.devices` rules. */
export interface BuiltDevices {
  devices: SpecDevice[];
  rules: SpecDeviceRule[];
}

/**
 * Each device adds a `linux.devices` entry (mode parsed as octal, required; major and minor 0 when
 * unset, as in LinuxKit) and an allow rule with access `rwm` for its type, major and minor, since
 * the device cgroup must allow what is created. `path: all` only adds the rule
 * `{allow: true, type, access: rwm}` for a whole class (no type: every device).
 *
 * @throws LkvolError `LKVOL_CONFIG_INVALID` when a node has no path, type or mode, or a mode is not octal (0 to 7777).
 */
export function buildDevices(merged: MergedConfig): BuiltDevices {
  const out: BuiltDevices = { devices: [], rules: [] };
  for (const d of merged.devices ?? []) {
    if (d.path === 'all') {
      out.rules.push(d.type ? { allow: true, type: d.type, access: 'rwm' } : { allow: true, access: 'rwm' });
      continue;
    }
    const node = checkedNode(merged, d);
    out.devices.push(node);
    out.rules.push({ allow: true, type: node.type, major: node.major, minor: node.minor, access: 'rwm' });
  }
  return out;
}

function checkedNode(merged: MergedConfig, d: NonNullable<MergedConfig['devices']>[number]): SpecDevice {
  const { path, type, mode } = d;
  if (!path)
    throw invalidConfig(merged, 'a device has no path', {
      hint: 'give the device node\'s path, or "all" with a type for a whole class',
    });
  if (!type)
    throw invalidConfig(merged, `device ${JSON.stringify(path)} has no type`, {
      hint: 'give its type: c (character), b (block), u or p',
    });
  // LinuxKit: strconv.ParseInt(mode, 8, 32) then os.FileMode; bits above 07777 would be Go file-type bits.
  const fileMode = mode !== undefined && /^[0-7]+$/.test(mode) ? parseInt(mode, 8) : NaN;
  if (!(fileMode <= 0o7777)) {
    throw invalidConfig(
      merged,
      `device ${JSON.stringify(path)}: cannot parse mode ${JSON.stringify(mode ?? '')} as an octal value`,
      {
        hint: 'write the mode as an octal string such as "0660"',
      },
    );
  }
  return { path, type, major: d.major ?? 0, minor: d.minor ?? 0, fileMode };
}
