// linux.namespaces from net, ipc, uts, pid and userns, in LinuxKit's order, plus an always-new mount namespace.
import type { MergedConfig, SpecNamespace } from './types.js';

/**
 * The namespaces of a merged entry, in LinuxKit's order network, ipc, uts, pid, user, mount
 * (moby/config.go ConfigToOCI):
 * - net, ipc, uts and userns default to the host's: unset, `host` or `root` add nothing.
 * - pid defaults to a new namespace: unset, `""` or `new` add a new one; `host`/`root` share.
 * - `new` (and `none` for net) makes a new namespace; any other value is a path to join.
 * - A new mount namespace is always added, and no cgroup namespace, as the reference snapshot of
 *   LinuxKit does (reference §4.3; linuxkit#3735 proposes a cgroup namespace).
 */
export function buildNamespaces(merged: MergedConfig): SpecNamespace[] {
  const out: SpecNamespace[] = [];
  const add = (type: SpecNamespace['type'], value: string, newWords: readonly string[]): void => {
    if (value === 'host' || value === 'root') return;
    out.push(newWords.includes(value) ? { type } : { type, path: value });
  };
  add('network', merged.net || 'root', ['none', 'new']);
  add('ipc', merged.ipc || 'root', ['new']);
  add('uts', merged.uts || 'root', ['new']);
  add('pid', merged.pid ?? '', ['', 'new']);
  add('user', merged.userns || 'root', ['new']);
  out.push({ type: 'mount' });
  return out;
}
