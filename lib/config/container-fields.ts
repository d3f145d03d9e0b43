// Checks of container fields LinuxKit only rejects when it builds the spec: capabilities, rlimits, devices, tmpfs.
import { checkDestination } from './binds.js';
import type { ContainerFields } from './schema.js';
import type { DocPath } from './doc-path.js';

/** A problem at a path inside the container entry. */
export interface FieldProblem {
  path: DocPath;
  message: string;
}

/**
 * Every capability LinuxKit knows (moby/sys/capability `ListKnown`, in kernel number order): what a
 * container may name, and what `all` expands to in its spec.
 */
export const knownCapabilities: readonly string[] = (
  'CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE ' +
  'NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN ' +
  'SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE ' +
  'MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE'
)
  .split(' ')
  .map((c) => `CAP_${c}`);
const knownCapabilitySet = new Set(knownCapabilities);

const rlimitNames = new Set(
  'CPU FSIZE DATA STACK CORE RSS NPROC NOFILE MEMLOCK AS LOCKS SIGPENDING MSGQUEUE NICE RTPRIO RTTIME'.split(' '),
);

/** All field problems of one entry (or label). */
export function checkFields(entry: ContainerFields): FieldProblem[] {
  return [
    ...checkCapabilities(entry, 'capabilities'),
    ...checkCapabilities(entry, 'capabilities.add'),
    ...checkCapabilities(entry, 'ambient'),
    ...(entry.rlimits ?? []).flatMap((r, i) => at(['rlimits', i], checkRlimit(r))),
    ...(entry.tmpfs ?? []).flatMap((t, i) => at(['tmpfs', i], checkTmpfs(t))),
    ...(entry.devices ?? []).flatMap((d, i) =>
      checkDevice(d).map((p) => ({ path: ['devices', i, ...p.path], message: p.message })),
    ),
  ];
}

function at(path: DocPath, message: string | undefined): FieldProblem[] {
  return message === undefined ? [] : [{ path, message }];
}

/**
 * A single `all` or `none` (any case) stands for every or no capability; otherwise each must be a known upper-case
 * name.
 */
function checkCapabilities(
  entry: ContainerFields,
  key: 'capabilities' | 'capabilities.add' | 'ambient',
): FieldProblem[] {
  const caps = entry[key] ?? [];
  if (caps.length === 1 && ['all', 'none'].includes(caps[0]!.toLowerCase())) return [];
  return caps.flatMap((c, i) => at([key, i], checkCapability(c)));
}

function checkCapability(c: string): string | undefined {
  if (knownCapabilitySet.has(c)) return undefined;
  if (['all', 'none'].includes(c.toLowerCase())) return `${JSON.stringify(c)} must be the only entry of the list`;
  const upper = c.toUpperCase();
  const canonical = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (knownCapabilitySet.has(canonical))
    return `unknown capability ${JSON.stringify(c)} (write it as ${JSON.stringify(canonical)})`;
  return `unknown capability ${JSON.stringify(c)} (want an upper-case CAP_* name, "all" or "none")`;
}

/** `name,soft,hard`: a standard RLIMIT_ name (prefix optional, any case) and two numbers or `unlimited`. */
function checkRlimit(r: string): string | undefined {
  const parts = r.split(',').map((p) => p.trim());
  if (parts.length !== 3)
    return `cannot parse rlimit ${JSON.stringify(r)}: want name,soft,hard, e.g. "nofile,1024,4096"`;
  const [name = '', ...limits] = parts;
  const bare = name.toUpperCase().replace(/^RLIMIT_/, '');
  if (!rlimitNames.has(bare))
    return `unknown rlimit ${JSON.stringify(name)} (want one of ${[...rlimitNames].map((n) => n.toLowerCase()).join(', ')})`;
  const bad = limits.find((l) => l.toLowerCase() !== 'unlimited' && !(/^\d+$/.test(l) && BigInt(l) < 2n ** 64n));
  if (bad !== undefined) return `rlimit ${JSON.stringify(r)}: ${JSON.stringify(bad)} is not a number or "unlimited"`;
  return undefined;
}

/** `dest[:opt,opt]`: at most one `:`, and a destination (a relative one only warns, see warnings.ts). */
function checkTmpfs(t: string): string | undefined {
  const parts = t.split(':');
  if (parts.length > 2) return `cannot parse tmpfs ${JSON.stringify(t)}: too many ':' (want destination[:options])`;
  const problem = checkDestination(parts[0] ?? '', { volume: false });
  return problem === undefined ? undefined : `tmpfs ${JSON.stringify(t)}: ${problem}`;
}

type Device = NonNullable<ContainerFields['devices']>[number];

/**
 * `path: all` needs nothing else (a rule for a class of devices). A node needs a path, a type and an
 * octal mode: LinuxKit fails on a missing mode when it builds, and writes a node with an empty path
 * or type that no runtime accepts, so lkvol refuses those here.
 */
function checkDevice(d: Device): FieldProblem[] {
  if (d.path === 'all') return [];
  if (d.path === undefined || d.path === '')
    return [
      {
        path: [],
        message: 'device needs a path: a device node such as "/dev/console", or "all" with a type for a whole class',
      },
    ];
  const name = `device ${JSON.stringify(d.path)}`;
  const problems: FieldProblem[] = [];
  if (d.type === undefined || d.type === '')
    problems.push({ path: [], message: `${name} needs a type: c (character), b (block), u or p` });
  if (d.mode === undefined)
    problems.push({ path: [], message: `${name} needs a mode, an octal string such as "0666"` });
  else if (!/^[0-7]+$/.test(d.mode) || parseInt(d.mode, 8) > 0o7777)
    problems.push({
      path: ['mode'],
      message: `device mode ${JSON.stringify(d.mode)} is not an octal number up to 7777, e.g. "0666"`,
    });
  return problems;
}
