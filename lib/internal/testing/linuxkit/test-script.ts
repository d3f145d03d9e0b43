// Test helper: finds the `linuxkit build` invocations of a LinuxKit test.sh and whether each must succeed.
import { expandVariables, readAssignments, splitShellWords, type ShellToken } from './shell-words.js';

/** One `linuxkit build` of a test.sh. */
export interface ScriptBuild {
  /** 1-based line of the command (its first line when continued with `\`). */
  line: number;
  /** The system files as written after expanding variables, in merge order. */
  files: string[];
  /** `refuse` when the script checks that the build fails. */
  expect: 'build' | 'refuse';
}

/** A line that mentions `linuxkit … build` but could not be read as a system build. */
export interface UnparsedLine {
  line: number;
  text: string;
  why: string;
}

/**
 * Global flags of `linuxkit` and flags of `linuxkit build` that take a value
 * (linuxkit src/cmd/linuxkit/{cmd,build}.go).
 */
const valueFlags = new Set([
  '--mirror',
  '--cache',
  '--certs',
  '--config',
  '--name',
  '--dir',
  '--o',
  '-o',
  '--size',
  '--arch',
  '--format',
  '-f',
  '--input-tar',
  '--sbom-output',
]);
const booleanFlags = new Set([
  '--pull',
  '--docker',
  '--decompress-kernel',
  '--no-sbom',
  '--sbom-current-time',
  '--dry-run',
  '-q',
  '--quiet',
]);
/** `-v`/`--verbose` takes an optional level: `-v 2` and `-v --no-sbom` both occur. */
const verboseFlags = new Set(['-v', '--verbose']);

/**
 * Reads every `linuxkit [global flags] build [flags] file…` in `script`; `pkg build` and commented lines
 * are not builds. `vars` seeds variables set outside the script (e.g. `LINUXKIT_EXAMPLES_DIR`); plain
 * `NAME=value` lines of the script are added to them.
 */
export function parseTestScript(
  script: string,
  vars: ReadonlyMap<string, string> = new Map(),
): { builds: ScriptBuild[]; unparsed: UnparsedLine[] } {
  const known = new Map([...vars, ...readAssignments(script)]);
  const lines = script.split('\n');
  const builds: ScriptBuild[] = [];
  const unparsed: UnparsedLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = joinContinued(lines, i);
    if (!/\blinuxkit\b.*\bbuild\b/.test(text) || /^\s*#/.test(text) || isPackageBuild(text)) continue;
    const tokens = splitShellWords(text);
    const at = tokens.findIndex((t) => t.kind === 'word' && t.text === 'linuxkit');
    const args = at === -1 ? undefined : readBuildArgs(tokens.slice(at + 1));
    if (args === 'not-a-build') continue;
    if (args === undefined || typeof args === 'string') {
      unparsed.push({ line: i + 1, text: text.trim(), why: args ?? 'no "linuxkit" command word' });
      continue;
    }
    const files = args.map((f) => expandVariables(f, known));
    if (files.length === 0 || files.some((f) => f === undefined)) {
      unparsed.push({
        line: i + 1,
        text: text.trim(),
        why: files.length === 0 ? 'no system file' : 'a system file names an unknown variable',
      });
      continue;
    }
    builds.push({ line: i + 1, files: files as string[], expect: expectation(lines, i, tokens.slice(0, at)) });
  }
  return { builds, unparsed };
}

/** `linuxkit … pkg build` (a package, not a system), however it is quoted or redirected. */
function isPackageBuild(text: string): boolean {
  return /\bpkg\s+build\b/.test(text) && !/\blinuxkit\s+(?:-\S+\s+)*build\b/.test(text);
}

/** The line at `i` with any `\`-continued lines appended. */
function joinContinued(lines: readonly string[], i: number): string {
  let text = lines[i] ?? '';
  for (let j = i + 1; text.endsWith('\\') && j < lines.length; j++) text = `${text.slice(0, -1)} ${lines[j] ?? ''}`;
  return text;
}

/** The positional arguments of `build`; 'not-a-build' for other subcommands; a reason when a word is not understood. */
function readBuildArgs(tokens: readonly ShellToken[]): string[] | 'not-a-build' | string {
  const files: string[] = [];
  let subcommand: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === undefined || t.kind === 'operator') break;
    if (subcommand !== undefined && subcommand !== 'build') return 'not-a-build';
    if (valueFlags.has(t.text)) i++;
    else if (verboseFlags.has(t.text)) i += /^\d+$/.test(tokens[i + 1]?.text ?? '') ? 1 : 0;
    else if (booleanFlags.has(t.text) || /^--?[a-z-]+=/.test(t.text)) continue;
    else if (t.text.startsWith('-')) return `unknown flag ${t.text}`;
    else if (subcommand === undefined) subcommand = t.text;
    else files.push(t.text);
  }
  if (subcommand !== 'build') return 'not-a-build';
  const odd = files.find((f) => !/\.ya?ml$/.test(f));
  return odd === undefined ? files : `argument ${JSON.stringify(odd)} is not a .yml file`;
}

/**
 * How the script treats the build's outcome: `if linuxkit …; then … exit 1`, `$(linuxkit … || echo
 * FAILED)` and `set +e; linuxkit …; retcode=$?; … -eq 0 … exit 1` all mean the build must fail.
 * `if ! linuxkit …` and a plain command under `set -e` mean it must succeed.
 */
function expectation(lines: readonly string[], i: number, before: readonly ShellToken[]): 'build' | 'refuse' {
  const line = lines[i] ?? '';
  const words = before.map((t) => t.text);
  if (words.at(-1) === 'if') return blockUntil(lines, i, 'fi').some((l) => /\bexit\s+1\b/.test(l)) ? 'refuse' : 'build';
  if (words.at(-1) === '$(' && /\|\|\s*echo\s+FAILED\b/.test(line)) return 'refuse';
  const prior = lines.slice(Math.max(0, i - 3), i).map((l) => l.trim());
  const after = lines.slice(i + 1, i + 10).join('\n');
  if (prior.includes('set +e') && /\$\?/.test(after) && /-eq 0\s*\]/.test(after) && /\bexit\s+1\b/.test(after))
    return 'refuse';
  return 'build';
}

/** Lines after `i` up to and including the first that is exactly `end`. */
function blockUntil(lines: readonly string[], i: number, end: string): string[] {
  const out: string[] = [];
  for (let j = i + 1; j < lines.length; j++) {
    out.push(lines[j] ?? '');
    if ((lines[j] ?? '').trim() === end) break;
  }
  return out;
}
