// Turns a checked draft into the Config handed to the build: references parsed, volume defaults applied.
import { dirname } from 'node:path';
import { internalError } from '../errors.js';
import { parseReference } from '../ref/index.js';
import type { Draft, DraftContainer, DraftVolume } from './merge.js';
import { parseSize } from './size.js';
import { parseTimeout } from './check-volumes.js';
import { normalizeImageConfig } from './spellings.js';
import type { Config, ConfigWarning, LoadedContainer, LoadedVolume } from './types.js';

/** Builds the Config; the draft must have passed `checkDraft` (a failure here is LKVOL_INTERNAL). */
export function finalizeDraft(draft: Draft, warnings: ConfigWarning[]): Config {
  const config: Config = {
    files: draft.files,
    volumes: draft.volumes.map(loadVolume),
    onboot: draft.containers.onboot.map(loadContainer),
    services: draft.containers.services.map(loadContainer),
    onshutdown: draft.containers.onshutdown.map(loadContainer),
    init: draft.init,
    fileEntries: draft.fileEntries,
    trust: draft.trust,
    warnings,
  };
  if (draft.kernel !== undefined) config.kernel = draft.kernel;
  return config;
}

function loadVolume(v: DraftVolume): LoadedVolume {
  const { entry } = v;
  let sizeLimit: number | undefined;
  if (entry.sizeLimit !== undefined) {
    const size = parseSize(entry.sizeLimit);
    if (!size.ok)
      throw internalError(
        `volume ${JSON.stringify(entry.name)}: sizeLimit passed the checks but does not parse: ${size.reason}`,
      );
    sizeLimit = size.bytes;
  }
  return {
    ...v,
    name: entry.name,
    ref: entry.image === undefined ? undefined : parseReference(entry.image, { base: dirname(v.pos.file) }),
    readonly: entry.readonly ?? false,
    format: entry.format ?? 'filesystem',
    platforms: entry.platforms,
    sizeLimit,
    ...(entry.provisioner === undefined
      ? {}
      : {
          provisioner: {
            ...(entry.provisioner.name === undefined ? {} : { name: entry.provisioner.name }),
            ...(entry.provisioner.command === undefined ? {} : { command: entry.provisioner.command }),
            params: entry.provisioner.params ?? {},
            timeoutMs:
              entry.provisioner.timeout === undefined
                ? defaultProvisionerTimeoutMs
                : parseTimeout(entry.provisioner.timeout)!,
            file: v.pos.file,
          },
        }),
  };
}

/** How long a provisioner may run when its volume says nothing. */
const defaultProvisionerTimeoutMs = 10 * 60_000;

function loadContainer(c: DraftContainer): LoadedContainer {
  return {
    ...c,
    entry: normalizeImageConfig(c.entry),
    name: c.entry.name,
    ref: parseReference(c.entry.image, { base: dirname(c.pos.file) }),
  };
}
