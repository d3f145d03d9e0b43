// The loaded, merged configuration handed to the build step, and where each part came from.
import type { ConfigIssue } from '../errors.js';
import type { DocPath } from './doc-path.js';
import type { NormalizedRef } from '../ref/index.js';
import type { ContainerEntry, Section, SystemFile, VolumeEntry } from './schema.js';
import type { ConfigWarningCode } from './warnings.js';

/** A place in a system file: 1-based line and column. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

/** Where an entry was written, and how to locate nodes inside it. */
export interface EntrySource {
  /** Position of the entry itself (the start of its mapping). */
  pos: SourcePos;
  /** The entry's path inside its own file, e.g. `services[0]` (files are numbered separately). */
  path: string;
  /** Position of a node inside this entry (`['binds', 2]`), or of its nearest existing ancestor. */
  positionOf(path: DocPath): SourcePos;
}

/** A top-level `volumes:` entry with defaults applied (SPEC §1.1). */
export interface LoadedVolume extends EntrySource {
  name: string;
  entry: VolumeEntry;
  /** The seed image; undefined for a blank volume. */
  ref: NormalizedRef | undefined;
  readonly: boolean;
  format: 'filesystem' | 'oci';
  /** `format: oci` only; undefined means every platform in the index. */
  platforms: string[] | undefined;
  /** Cap on bytes written into lower/, or undefined for none. */
  sizeLimit: number | undefined;
  /** lkvol extension: the program that fills lower/ (then `ref` is undefined). */
  provisioner?: LoadedProvisioner | undefined;
}

/** A volume's provisioner, as the system file gives it. */
export interface LoadedProvisioner {
  /** `lkvol-provisioner-<name>`, found on PATH. */
  name?: string | undefined;
  /** A program and its arguments; a program with a `/` is relative to the system file's directory. */
  command?: string[] | undefined;
  /** Written as JSON to its stdin. */
  params: Record<string, unknown>;
  timeoutMs: number;
  /** The system file naming it (as given): its directory is the provisioner's working directory. */
  file: string;
}

/** An onboot, services or onshutdown entry (SPEC §1.2). */
export interface LoadedContainer extends EntrySource {
  section: Section;
  /** Position in the merged section (all files, in order): the NNN of onboot/onshutdown bundles. */
  index: number;
  name: string;
  entry: ContainerEntry;
  ref: NormalizedRef;
}

export type KernelConfig = NonNullable<SystemFile['kernel']>;
export type FileEntry = NonNullable<SystemFile['files']>[number];

/** A `files:` entry with where it came from (validated for shape, otherwise passed over). */
export interface LoadedFile extends EntrySource {
  entry: FileEntry;
}

/** Something a system file does that LinuxKit accepts and the user should hear about; never fails the build. */
export interface ConfigWarning extends ConfigIssue {
  code: ConfigWarningCode;
}

/** Every system file merged in order, as LinuxKit merges them. */
export interface Config {
  /** The system files, in the order given. */
  files: string[];
  volumes: LoadedVolume[];
  onboot: LoadedContainer[];
  services: LoadedContainer[];
  onshutdown: LoadedContainer[];
  init: string[];
  /** Field by field, a later file's value wins. */
  kernel?: KernelConfig;
  /** The `files:` sections appended. */
  fileEntries: LoadedFile[];
  /** The `trust:` lists appended (accepted and ignored, as in LinuxKit). */
  trust: { image: string[]; org: string[] };
  /** Warnings about the files, sorted like issues (shown by `validate`, sent as events by `build`). */
  warnings: ConfigWarning[];
}
