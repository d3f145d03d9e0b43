// From (image config, merged entry) to the config.json and runtime.json of one container bundle.
import { buildLinux } from './linux.js';
import { buildMounts } from './mounts.js';
import { applyImageConfig } from './precedence.js';
import { buildProcess } from './process.js';
import { buildRuntime } from './runtime.js';
import type { ImageConfigInput, MergedConfig, RuntimeJson, RuntimeSpec } from './types.js';

/** The runtime-spec version LinuxKit writes (specs-go `Version` at the reference snapshot). */
export const defaultOciVersion = '1.2.1';

/** Inputs of `emitRuntimeSpec`. */
export interface EmitOptions {
  /** The `config` part of the image's config blob. */
  imageConfig: ImageConfigInput;
  /** The entry merged from label and YAML by `resolveContainerConfig`. */
  merged: MergedConfig;
  /** Container name → id, for `uid`/`gid`/`additionalGids` given as names. */
  idMap: ReadonlyMap<string, number>;
  /** The bundle directory as the booted system sees it, e.g. `/containers/onboot/000-name` (see `bundlePath`). */
  bundlePath: string;
  /**
   * Where the image's files are when another bundle holds them (LinuxKit unpacks an image once); default this bundle's.
   */
  imageRoot?: string | undefined;
  /** Defaults to `defaultOciVersion`. */
  ociVersion?: string | undefined;
}

/**
 * Builds config.json (`spec`) and runtime.json (`runtime`) exactly as LinuxKit's ConfigToOCI and
 * ImageBundle do (reference §4.3–§5), with the SPEC fixes: volume sources in `mounts` are
 * rewritten, `rbind` is never added twice, `.add` lists are never dropped. Pure; serialize the
 * results with `stableJson` (lib/internal/stable-json.ts).
 *
 * @throws LkvolError `LKVOL_CONFIG_INVALID` for a malformed bind, tmpfs, mount, device, rlimit,
 *   unknown capability or unresolvable user id, naming the container.
 */
export function emitRuntimeSpec(opts: EmitOptions): { spec: RuntimeSpec; runtime: RuntimeJson } {
  const merged = applyImageConfig(opts.merged, opts.imageConfig);
  const readonly = merged.readonly ?? false;
  const spec: RuntimeSpec = {
    ociVersion: opts.ociVersion ?? defaultOciVersion,
    process: buildProcess(merged, opts.idMap),
    root: readonly ? { path: 'rootfs', readonly: true } : { path: 'rootfs' },
    mounts: buildMounts(merged),
    linux: buildLinux(merged),
  };
  if (merged.hostname) spec.hostname = merged.hostname;
  if (merged.annotations !== undefined && Object.keys(merged.annotations).length > 0)
    spec.annotations = { ...merged.annotations };
  const runtime = buildRuntime({
    runtime: merged.runtime,
    bundlePath: opts.bundlePath,
    readonly,
    imageRoot: opts.imageRoot,
  });
  return { spec, runtime };
}
