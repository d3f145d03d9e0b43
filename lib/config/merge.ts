// Merges validated system files in order, as LinuxKit does: sections append, kernel fields override.
import { formatPath, type Locator } from './positions.js';
import { sections, type ContainerEntry, type Section, type SystemFile, type VolumeEntry } from './schema.js';
import type { DocPath } from './doc-path.js';
import type { EntrySource, KernelConfig, LoadedFile } from './types.js';

/** One file after schema validation. */
export interface ValidFile {
  locator: Locator;
  data: SystemFile;
}

export interface DraftVolume extends EntrySource {
  entry: VolumeEntry;
}

export interface DraftContainer extends EntrySource {
  section: Section;
  index: number;
  entry: ContainerEntry;
}

/** The merged files before semantic checks: entries with their sources, no defaults applied yet. */
export interface Draft {
  files: string[];
  volumes: DraftVolume[];
  containers: Record<Section, DraftContainer[]>;
  init: string[];
  kernel: KernelConfig | undefined;
  fileEntries: LoadedFile[];
  trust: { image: string[]; org: string[] };
}

/** Merges files in order. The result's containers carry their merged index and their file-local path. */
export function mergeFiles(files: readonly ValidFile[]): Draft {
  const draft: Draft = {
    files: files.map((f) => f.locator.file),
    volumes: [],
    containers: { onboot: [], services: [], onshutdown: [] },
    init: [],
    kernel: undefined,
    fileEntries: [],
    trust: { image: [], org: [] },
  };
  for (const { locator, data } of files) {
    (data.volumes ?? []).forEach((entry, i) => draft.volumes.push({ entry, ...entrySource(locator, ['volumes', i]) }));
    for (const section of sections) {
      const list = draft.containers[section];
      (data[section] ?? []).forEach((entry, i) =>
        list.push({ section, index: list.length, entry, ...entrySource(locator, [section, i]) }),
      );
    }
    (data.files ?? []).forEach((entry, i) => draft.fileEntries.push({ entry, ...entrySource(locator, ['files', i]) }));
    draft.init.push(...(data.init ?? []));
    draft.trust.image.push(...(data.trust?.image ?? []));
    draft.trust.org.push(...(data.trust?.org ?? []));
    if (data.kernel !== undefined) draft.kernel = { ...draft.kernel, ...data.kernel };
  }
  return draft;
}

/** Where the entry at `base` lives, and a locator for nodes inside it. */
export function entrySource(locator: Locator, base: DocPath): EntrySource {
  return {
    pos: locator.at(base),
    path: formatPath(base),
    positionOf: (path: DocPath) => locator.at([...base, ...path]),
  };
}
