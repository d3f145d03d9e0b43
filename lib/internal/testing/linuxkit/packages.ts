// Test helper: which LinuxKit package directory builds which repository (build.yml `org`/`image`).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { compareStrings } from './builds.js';

/** A package: its directory (relative to the checkout) and the Dockerfile it builds from. */
export interface LinuxkitPackage {
  dir: string;
  dockerfile: string;
}

/** Where packages live; test/cases holds packages that some test systems use (e.g. 050_sbom). */
const packageRoots = ['pkg', 'tools', 'test/pkg', 'test/cases'];

/**
 * Maps `org/image` (org defaults to `linuxkit`, as in `linuxkit pkg build`) to its package. When two
 * directories name one repository the first in {@link packageRoots} order wins; the others are returned
 * in `shadowed` so the caller can report them.
 */
export async function indexPackages(
  root: string,
): Promise<{ byRepository: Map<string, LinuxkitPackage>; shadowed: { repository: string; dir: string }[] }> {
  const byRepository = new Map<string, LinuxkitPackage>();
  const shadowed: { repository: string; dir: string }[] = [];
  for (const top of packageRoots) {
    for (const dir of await findBuildYmlDirs(root, top)) {
      const meta = parse(await readFile(join(root, dir, 'build.yml'), 'utf8')) as {
        org?: unknown;
        image?: unknown;
        dockerfile?: unknown;
      } | null;
      if (typeof meta?.image !== 'string') continue;
      const repository = `${typeof meta.org === 'string' ? meta.org : 'linuxkit'}/${meta.image}`;
      if (byRepository.has(repository)) shadowed.push({ repository, dir });
      else
        byRepository.set(repository, {
          dir,
          dockerfile: typeof meta.dockerfile === 'string' ? meta.dockerfile : 'Dockerfile',
        });
    }
  }
  return { byRepository, shadowed };
}

/** Directories under `dir` (itself included) holding a build.yml, sorted; nested roots are left to their own scan. */
async function findBuildYmlDirs(root: string, dir: string): Promise<string[]> {
  const entries = (await readdir(join(root, dir), { withFileTypes: true })).sort((a, b) =>
    compareStrings(a.name, b.name),
  );
  const out: string[] = entries.some((e) => e.isFile() && e.name === 'build.yml') ? [dir] : [];
  for (const e of entries) {
    const sub = `${dir}/${e.name}`;
    if (e.isDirectory() && !packageRoots.includes(sub)) out.push(...(await findBuildYmlDirs(root, sub)));
  }
  return out;
}
