// Process capabilities: none by default, `all`/`none`, known CAP_* names only (LinuxKit ConfigToOCI).
import { invalidConfig } from './fail.js';
import { compareBytes } from '../internal/compare.js';
import type { MergedConfig, SpecCapabilities } from './types.js';
import { knownCapabilities } from '../config/index.js';

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
