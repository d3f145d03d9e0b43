// Process capabilities: none by default, `all`/`none`, known CAP_* names only (LinuxKit ConfigToOCI).
import { invalidConfig } from './fail.js';
import { compareBytes } from '../internal/compare.js';
import type { MergedConfig, SpecCapabilities } from './types.js';

/**
 * Every capability LinuxKit knows (moby/sys/capability `ListKnown`, in kernel number order), which
 * is also what `all` expands to.
 */
export const knownCapabilities: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];
const known = new Set(knownCapabilities);

/**
 * The capability sets of a merged entry: effective = `capabilities` (after `.add`), ambient =
 * `ambient`, bounding = the sorted union of both, inheritable = permitted = bounding. Empty sets
 * are left out, so no capabilities gives `{}`.
 *
 * `all` and `none` (any case) expand to every known capability and to nothing. LinuxKit accepts
 * them only as the sole entry; lkvol accepts them anywhere in the list, because with the SPEC §1.2
 * fix `capabilities: [none]` plus `capabilities.add: [CAP_X]` merges to `[none, CAP_X]`.
 *
 * @throws LkvolError `LKVOL_CONFIG_INVALID` `unknown capability "X"` for any other name
 *   (names are exact upper case, as in LinuxKit).
 */
export function buildCapabilities(merged: MergedConfig): SpecCapabilities {
  const effective = expand(merged, merged.capabilities ?? []);
  const ambient = expand(merged, merged.ambient ?? []);
  const bounding = [...new Set([...effective, ...ambient])].sort(compareBytes);
  const out: SpecCapabilities = {};
  if (bounding.length > 0) {
    out.bounding = bounding;
    out.inheritable = [...bounding];
    out.permitted = [...bounding];
  }
  if (effective.length > 0) out.effective = effective;
  if (ambient.length > 0) out.ambient = ambient;
  return out;
}

function expand(merged: MergedConfig, names: readonly string[]): string[] {
  const out = new Set<string>();
  for (const name of names) {
    const lower = name.toLowerCase();
    if (lower === 'none') continue;
    if (lower === 'all') {
      knownCapabilities.forEach((c) => out.add(c));
      continue;
    }
    if (!known.has(name)) {
      throw invalidConfig(merged, `unknown capability ${JSON.stringify(name)}`, {
        hint: 'use upper-case CAP_* names (e.g. CAP_NET_ADMIN), "all" or "none"',
      });
    }
    out.add(name);
  }
  return [...out];
}
