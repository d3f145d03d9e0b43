// Test helper: the image config a Dockerfile's final stage gets (ENTRYPOINT, CMD, ENV, WORKDIR, USER, LABEL), as
// BuildKit sets it.
import { splitShellWords } from './shell-words.js';

/** The `config` fields of an OCI image config that the corpus records. */
export interface ImageRunConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
}

/** What Linux images get when the Dockerfile sets no PATH: BuildKit's `system.DefaultPathEnv("linux")`. */
export const defaultPath = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface StageState {
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
  /** CMD set in this stage: then a later ENTRYPOINT keeps it (BuildKit `dispatchEntrypoint`). */
  cmdSet: boolean;
  env: string[];
  workingDir: string | undefined;
  user: string | undefined;
  labels: Record<string, string>;
}

/**
 * The config of the last stage of `dockerfile`. A stage `FROM scratch` starts as BuildKit's empty image
 * (default PATH, WorkingDir `/`); `FROM <earlier stage>` inherits that stage; any other base counts as a
 * plain image with the default PATH. Empty lists and maps are left out, as Docker's JSON omits them.
 * Not a full Dockerfile parser: no heredocs, no ARG expansion in FROM, no ONBUILD.
 */
export function finalStageConfig(dockerfile: string): ImageRunConfig {
  const stages = new Map<string, StageState>();
  let current: StageState | undefined;
  for (const { instruction, args } of instructions(dockerfile)) {
    if (instruction === 'FROM') {
      const words = args.split(/\s+/).filter((w) => !w.startsWith('--'));
      current = startStage(words[0] ?? 'scratch', stages);
      if (words[1]?.toLowerCase() === 'as' && words[2] !== undefined) stages.set(words[2].toLowerCase(), current);
    } else if (current !== undefined) applyInstruction(current, instruction, args);
  }
  return current === undefined ? {} : toConfig(current);
}

function startStage(base: string, stages: ReadonlyMap<string, StageState>): StageState {
  const parent = stages.get(base.toLowerCase());
  if (parent !== undefined) return { ...parent, cmdSet: false, env: [...parent.env], labels: { ...parent.labels } };
  return {
    entrypoint: undefined,
    cmd: undefined,
    cmdSet: false,
    env: [defaultPath],
    workingDir: base === 'scratch' ? '/' : undefined,
    user: undefined,
    labels: {},
  };
}

function applyInstruction(s: StageState, instruction: string, args: string): void {
  if (instruction === 'ENTRYPOINT') {
    s.entrypoint = commandOf(args);
    if (!s.cmdSet) s.cmd = undefined;
  } else if (instruction === 'CMD') {
    s.cmd = commandOf(args);
    s.cmdSet = true;
  } else if (instruction === 'ENV')
    for (const [k, v] of pairsOf(args, s.env)) s.env = [...s.env.filter((e) => !e.startsWith(`${k}=`)), `${k}=${v}`];
  else if (instruction === 'WORKDIR')
    s.workingDir = args.startsWith('/') ? args : `${s.workingDir ?? '/'}/${args}`.replace(/\/+/g, '/');
  else if (instruction === 'USER') s.user = args;
  else if (instruction === 'LABEL') for (const [k, v] of pairsOf(args, [])) s.labels[k] = v;
}

/** Exec form (a JSON array) as is; shell form through `/bin/sh -c`. */
function commandOf(args: string): string[] {
  if (args.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(args);
      if (Array.isArray(parsed) && parsed.every((a) => typeof a === 'string')) return parsed;
    } catch {
      // Docker treats an invalid JSON array as shell form.
    }
  }
  return ['/bin/sh', '-c', args];
}

/** `K=V K2="v 2"` pairs, or the legacy `K V…` form; `$VAR` expanded from `env`. */
function pairsOf(args: string, env: readonly string[]): [string, string][] {
  const words = splitShellWords(args).map((t) => t.text);
  const first = words[0] ?? '';
  if (!first.includes('=')) return [[first, expand(args.slice(args.indexOf(first) + first.length).trim(), env)]];
  return words.map((w) => {
    const eq = w.indexOf('=');
    return [w.slice(0, eq), expand(w.slice(eq + 1), env)];
  });
}

function expand(value: string, env: readonly string[]): string {
  return value.replace(/\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)/g, (_m, a: string | undefined, b: string | undefined) => {
    const hit = env.find((e) => e.startsWith(`${a ?? b ?? ''}=`));
    return hit === undefined ? '' : hit.slice(hit.indexOf('=') + 1);
  });
}

function toConfig(s: StageState): ImageRunConfig {
  const out: ImageRunConfig = {};
  if (s.entrypoint !== undefined && s.entrypoint.length > 0) out.Entrypoint = s.entrypoint;
  if (s.cmd !== undefined && s.cmd.length > 0) out.Cmd = s.cmd;
  if (s.env.length > 0) out.Env = s.env;
  if (s.workingDir !== undefined && s.workingDir !== '') out.WorkingDir = s.workingDir;
  if (s.user !== undefined && s.user !== '') out.User = s.user;
  if (Object.keys(s.labels).length > 0) out.Labels = s.labels;
  return out;
}

/** Instructions with continuation lines joined and comments dropped; the keyword upper-cased. */
function instructions(dockerfile: string): { instruction: string; args: string }[] {
  const out: { instruction: string; args: string }[] = [];
  let pending = '';
  for (const raw of dockerfile.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(full);
    if (m !== null) out.push({ instruction: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim() });
  }
  return out;
}
