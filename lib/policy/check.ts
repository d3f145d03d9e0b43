// Checks every bind of a host path (from the system files or an image label) against a policy.
import {
  formatPath,
  isReadOnlyOptions,
  isVolumeSource,
  mountType,
  parseBind,
  type Config,
  type DocPath,
  type ContainerFields,
  type LoadedContainer,
} from '../config/index.js';
import type { ConfigIssue } from '../errors.js';
import type { Policy, PolicyRule } from './policy.js';
import { isUnder, normalizeHostPath } from './paths.js';

/** What a policy violation's error suggests. */
export const policyHint =
  "bind only what the policy allows (read-only where it says so), override the image label's binds in the system file, or change the policy";

/** A bind or bind mount of a host path in an entry: where it is, its source as written, and its options. */
export interface HostBind {
  path: DocPath;
  /** `src:dest[:opts]` as written, or the mount's `source`. */
  text: string;
  source: string;
  options: readonly string[];
}

/** The host-path binds of an entry (`binds`, `binds.add`, bind `mounts`); volume binds are not host paths. */
export function hostBinds(entry: ContainerFields): HostBind[] {
  const out: HostBind[] = [];
  for (const key of ['binds', 'binds.add'] as const) {
    (entry[key] ?? []).forEach((b, i) => {
      const parsed = parseBind(b);
      if (parsed.ok && !isVolumeSource(parsed.bind.source))
        out.push({ path: [key, i], text: b, source: parsed.bind.source, options: parsed.bind.options });
    });
  }
  (entry.mounts ?? []).forEach((m, i) => {
    if (mountType(m) === 'bind' && m.source !== undefined && !isVolumeSource(m.source))
      out.push({ path: ['mounts', i], text: m.source, source: m.source, options: m.options ?? [] });
  });
  return out;
}

/** Why a host bind breaks `policy`, naming the rule; undefined when it may stay. */
export function policyViolation(b: HostBind, policy: Policy): string | undefined {
  const { path, dotdot } = normalizeHostPath(b.source);
  const where = (r: PolicyRule) => `${r.name} (${policy.file}:${r.pos.line}:${r.pos.column})`;
  if (dotdot)
    return `host path ${JSON.stringify(b.source)} contains "..": write ${path} (with a policy, sources must be written plainly)`;
  const denied = policy.deny.find((r) => isUnder(path, r.path));
  if (denied !== undefined) return `host path ${path} is denied by ${where(denied)}`;
  // The most specific allow entry decides whether read-only is required.
  const allowed = policy.allow.filter((r) => isUnder(path, r.path)).sort((a, c) => c.path.length - a.path.length)[0];
  if (allowed === undefined)
    return `host path ${path} is not under any path the policy allows (${policy.file}: hostPaths.allow)`;
  if (allowed.readOnly && !isReadOnlyOptions(b.options))
    return `host path ${path} must be bound read-only ("ro"), as ${where(allowed)} says`;
  return undefined;
}

/** Every host bind of the system files' containers that breaks `policy`, at its line. */
export function checkConfigHostPaths(config: Config, policy: Policy): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const c of [...config.onboot, ...config.services, ...config.onshutdown]) {
    for (const b of hostBinds(c.entry)) {
      const why = policyViolation(b, policy);
      if (why !== undefined)
        issues.push({
          ...c.positionOf(b.path),
          path: `${c.path}.${formatPath(b.path)}`,
          message: `container "${c.name}": ${JSON.stringify(b.text)}: ${why}`,
        });
    }
  }
  return issues;
}

/**
 * Every host bind an image's label gives a container that breaks `policy`, at the container's image line; `image` names
 * it.
 */
export function checkLabelHostPaths(
  c: LoadedContainer,
  label: ContainerFields,
  { image, policy }: { image: string; policy: Policy },
): ConfigIssue[] {
  return hostBinds(label).flatMap((b) => {
    const why = policyViolation(b, policy);
    return why === undefined
      ? []
      : [
          {
            ...c.positionOf(['image']),
            path: `${c.path}.image`,
            message: `container "${c.name}": label org.mobyproject.config of ${image}: ${formatPath(b.path)} ${JSON.stringify(b.text)}: ${why}`,
          },
        ];
  });
}
