// Test helper: reads the committed LinuxKit corpus (testdata/linuxkit) for tests and the push helper.
import { readFile } from 'node:fs/promises';
import { testdataPath } from '../testdata.js';
import type { CorpusBuild } from './builds.js';
import type { ImagesFile } from './images-json.js';

/** The corpus directory: testdata/linuxkit of this repository. */
export function corpusDir(...parts: string[]): string {
  return testdataPath('linuxkit', ...parts);
}

/** The absolute path of a system file named as in builds.json. */
export function systemPath(file: string): string {
  return corpusDir('systems', file);
}

/** builds.json, sorted by id. */
export async function readCorpusBuilds(): Promise<CorpusBuild[]> {
  return JSON.parse(await readFile(corpusDir('builds.json'), 'utf8')) as CorpusBuild[];
}

/** images.json. */
export async function readCorpusImages(): Promise<ImagesFile> {
  return JSON.parse(await readFile(corpusDir('images.json'), 'utf8')) as ImagesFile;
}
