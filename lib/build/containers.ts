// Per container: read the image label, check its volume binds, emit config.json and runtime.json.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkVolumeRefs,
  entryWarnings,
  type ConfigWarningCode,
  formatPath,
  idWarnings,
  type ContainerFields,
  type LoadedContainer,
  type LoadedVolume,
  type RepeatedName,
} from '../config/index.js';
import { ConfigError, wrapError } from '../errors.js';
import { stableJson } from '../internal/stable-json.js';
import { checkLabelHostPaths, policyHint, type Policy } from '../policy/index.js';
import { formatReference } from '../ref/index.js';
import type { ResolvedImage } from '../registry/index.js';
import {
  bundlePath,
  emitRuntimeSpec,
  readImageLabel,
  resolveContainerConfig,
  type MergedConfig,
} from '../runtime-spec/index.js';
import type { ContainerRecord } from './record.js';

export interface PreparedContainer {
  container: LoadedContainer;
  image: ResolvedImage;
  merged: MergedConfig;
  /** Warnings about what the image label brings in (the YAML's were reported with the config). */
  warnings: { code: ConfigWarningCode; message: string }[];
}

/**
 * Merges label and YAML for a container and checks the binds the label brought in against the
 * declared volumes (SPEC §1.2: as soon as the label has been read, before any layer is pulled).
 * `repeated`: container names used more than once (config `repeatedNames`), for ids the label names.
 * @throws LKVOL_CONFIG_INVALID for a broken label or a label bind naming an unknown or read-only volume.
 */
export function prepareContainer(
  container: LoadedContainer,
  image: ResolvedImage,
  ctx: { volumes: LoadedVolume[]; repeated: ReadonlyMap<string, RepeatedName>; policy?: Policy | undefined },
): PreparedContainer {
  const ref = formatReference(container.ref);
  const origin = `label org.mobyproject.config of ${ref}`;
  const label = readImageLabel(image.config.config?.Labels, { image: ref });
  const merged = resolveContainerConfig({ yaml: container.entry, label: label?.fields });
  const issues = checkVolumeRefs(container, {
    binds: merged.binds ?? [],
    mounts: merged.mounts ?? [],
    volumes: ctx.volumes,
    origin,
  });
  if (issues.length > 0)
    throw new ConfigError('LKVOL_CONFIG_INVALID', issues, {
      hint: 'declare the volume, bind it read-only, or override the binds in the system file',
    });
  // The YAML's own host binds were checked before any request; what is left to check came with the label.
  const violations =
    ctx.policy === undefined || label === undefined
      ? []
      : checkLabelHostPaths(container, merged as ContainerFields, { image: ref, policy: ctx.policy });
  if (violations.length > 0) throw new ConfigError('LKVOL_POLICY_VIOLATION', violations, { hint: policyHint });
  const found =
    label === undefined
      ? []
      : [...entryWarnings(label.raw), ...idWarnings(idsFromLabel(label.raw, container.entry), ctx.repeated)];
  const warnings = found.map((w) => ({
    code: w.code,
    message: `container ${JSON.stringify(container.name)} (${origin}): ${formatPath(w.path)}: ${w.message}`,
  }));
  return { container, image, merged, warnings };
}

/** The ids the label sets and the YAML does not override. */
function idsFromLabel(
  label: ContainerFields,
  yaml: ContainerFields,
): Pick<ContainerFields, 'uid' | 'gid' | 'additionalGids'> {
  return {
    uid: yaml.uid === undefined ? label.uid : undefined,
    gid: yaml.gid === undefined ? label.gid : undefined,
    additionalGids: yaml.additionalGids === undefined ? label.additionalGids : undefined,
  };
}

/** A container's bundle as it will be written: its path below OUT, its files' bytes, its record. */
export interface RenderedContainer {
  /** `containers/<section>/<name>` */
  path: string;
  files: ReadonlyMap<'config.json' | 'runtime.json', string>;
  record: ContainerRecord;
  /** For messages: `<section> "<name>"`. */
  label: string;
}

/**
 * Emits a container's config.json and runtime.json, in memory; `imageRoot` (below OUT) is where its
 * image's files are (see rootfs.ts `imageRoots`). Throws LKVOL_CONFIG_INVALID (spec).
 */
export function renderContainer(
  p: PreparedContainer,
  idMap: Map<string, number>,
  imageRoot: string,
): RenderedContainer {
  const { container, image, merged } = p;
  const rel = bundlePath(container.section, container.index, container.name);
  const { spec, runtime } = emitRuntimeSpec({
    imageConfig: image.config.config ?? {},
    merged,
    idMap,
    bundlePath: `/${rel}`,
    imageRoot: `/${imageRoot}`,
  });
  return {
    path: rel,
    files: new Map([
      ['config.json', stableJson(spec)],
      ['runtime.json', stableJson(runtime)],
    ]),
    record: {
      section: container.section,
      name: container.name,
      image: formatReference(container.ref),
      digest: image.digest,
      manifest: image.manifestDigest,
      path: rel,
    },
    label: containerLabel(container),
  };
}

/** `services "web"`: how messages name a container entry. */
export function containerLabel(c: LoadedContainer): string {
  return `${c.section} "${c.name}"`;
}

/** Writes `<staging>/<bundle>/{config.json,runtime.json}`. Throws LKVOL_IO. */
export async function writeContainer(c: RenderedContainer, staging: string): Promise<ContainerRecord> {
  const dir = join(staging, c.path);
  try {
    await mkdir(dir, { recursive: true });
    for (const [name, text] of c.files) await writeFile(join(dir, name), text);
  } catch (err) {
    throw wrapError(err, 'LKVOL_IO', `${c.label}: write ${dir}`);
  }
  return c.record;
}
