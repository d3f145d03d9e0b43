// Test helper: every system build of a LinuxKit checkout — each example alone, and each `linuxkit build` of a test.sh.
import { access, readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { parseTestScript, type UnparsedLine } from './test-script.js';

/** One entry of builds.json. */
export interface CorpusBuild {
  /** `examples/sshd`, `test/cases/040_packages/012_losetup`, or `…#2` when a test.sh builds several times. */
  id: string;
  /** System files relative to the checkout (and to systems/), in merge order. */
  files: string[];
  expect: 'build' | 'refuse';
  /** `examples/x.yml`, or `test/cases/…/test.sh:LINE`. */
  origin: string;
}

/** What the scan found besides builds. */
export interface BuildScan {
  builds: CorpusBuild[];
  /** Lines of a test.sh that look like a build but were not understood, with the script's path. */
  unparsed: (UnparsedLine & { script: string })[];
  /** Builds whose expectation was overridden, with the reason (see {@link expectationOverrides}). */
  overridden: { origin: string; why: string }[];
  /** Files a test.sh names that do not exist in the checkout, and the stand-in used (see existingSpelling). */
  substituted: { origin: string; named: string; used: string }[];
}

/** Where the test harness points `LINUXKIT_EXAMPLES_DIR` (test/cases/group.sh), relative to the checkout. */
const examplesDir = 'examples';

/**
 * Builds whose outcome in LinuxKit's test does not depend on the system file: the test expects a failure
 * of the environment or of the command line (a mirror not yet started, an input tar that is also the
 * output), not a refusal of the file, and builds the same file successfully elsewhere.
 */
export const expectationOverrides: Readonly<Record<string, { expect: 'build' | 'refuse'; why: string }>> = {
  'test/cases/000_build/080_mirrors/test.sh:28': {
    expect: 'build',
    why: 'fails in LinuxKit only because its mirror is not started yet; the same test.yml builds at line 37',
  },
  'test/cases/000_build/060_input_tar/010_same_filename/test.sh:29': {
    expect: 'build',
    why: 'fails in LinuxKit only because --input-tar and --o name the same tar; the same test.yml builds at line 25',
  },
};

/** Examples as standalone builds, then every test.sh build; sorted by id. Paths are POSIX, relative to `root`. */
export async function scanBuilds(root: string): Promise<BuildScan> {
  const builds: CorpusBuild[] = [];
  for (const name of (await readdir(join(root, examplesDir))).filter((n) => n.endsWith('.yml'))) {
    const file = `${examplesDir}/${name}`;
    builds.push({ id: file.replace(/\.yml$/, ''), files: [file], expect: 'build', origin: file });
  }
  const unparsed: BuildScan['unparsed'] = [];
  const overridden: BuildScan['overridden'] = [];
  const substituted: BuildScan['substituted'] = [];
  for (const script of await findScripts(root, 'test/cases')) {
    const dir = posix.dirname(script);
    const parsed = parseTestScript(
      await readFile(join(root, script), 'utf8'),
      new Map([['LINUXKIT_EXAMPLES_DIR', posix.relative(dir, examplesDir)]]),
    );
    unparsed.push(...parsed.unparsed.map((u) => ({ ...u, script })));
    for (const [n, b] of parsed.builds.entries()) {
      const origin = `${script}:${b.line}`;
      const override = expectationOverrides[origin];
      if (override !== undefined) overridden.push({ origin, why: override.why });
      const files: string[] = [];
      for (const named of b.files.map((f) => posix.normalize(posix.join(dir, f)))) {
        const used = await existingSpelling(root, named);
        if (used !== named) substituted.push({ origin, named, used });
        files.push(used);
      }
      const id = parsed.builds.length === 1 ? dir : `${dir}#${n + 1}`;
      builds.push({ id, files, expect: override?.expect ?? b.expect, origin });
    }
  }
  builds.sort((a, b) => compareStrings(a.id, b.id));
  return { builds, unparsed, overridden, substituted };
}

/**
 * `file` when it exists, else the first existing stand-in, else `file` (the caller's read then fails
 * loudly). Stand-ins: the sibling with the other YAML extension — NB: 091_validate_linuxkit_yaml builds
 * `linuxkit.yaml` beside a `linuxkit.yml`; LinuxKit's test passes because the file is missing, but the
 * file meant is the .yml one — and `<file>.in`, the template a test fills with sed before building
 * (006_format_mount/002_by_name replaces `@DEVICE@` in command arguments only).
 */
async function existingSpelling(root: string, file: string): Promise<string> {
  const other = file.endsWith('.yaml') ? file.replace(/\.yaml$/, '.yml') : file.replace(/\.yml$/, '.yaml');
  for (const candidate of [file, other, `${file}.in`]) {
    try {
      await access(join(root, candidate));
      return candidate;
    } catch {
      // Try the next spelling.
    }
  }
  return file;
}

/** Marks as `refuse` every build that uses a file which is not valid YAML (LinuxKit's examples/static-ip.yml). */
export function markInvalidYaml(builds: CorpusBuild[], invalid: ReadonlySet<string>): CorpusBuild[] {
  return builds.map((b) => (b.files.some((f) => invalid.has(f)) ? { ...b, expect: 'refuse' } : b));
}

/** Byte order of UTF-16 code units: stable and locale-free. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `test.sh` files under `dir`, sorted, relative to `root`. */
export async function findScripts(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries.sort((a, b) => compareStrings(a.name, b.name))) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...(await findScripts(root, rel)));
    else if (e.name === 'test.sh') out.push(rel);
  }
  return out;
}
