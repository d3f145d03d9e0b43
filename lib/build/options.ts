// Build options and their defaults, filled in one place.
import { homedir } from 'node:os';
import type { Writable } from 'node:stream';
import { resolve } from 'node:path';
import { LkvolError } from '../errors.js';
import type { LoadedVolume } from '../config/index.js';
import type { VolumeLimits } from '../layer/index.js';
import { resolveCwd, resolvePaths, resolveRegistryOptions, type PullOptions } from '../pull/index.js';

/** What `build` takes: the pull options, and what to build where. */
export interface BuildOptions extends PullOptions {
  /** System files, merged in order; relative to `cwd`, and named in messages as given. */
  files: string[];
  /**
   * Output, relative to `cwd`: a directory (replaced atomically, and only when that destroys nothing,
   * see `checkOutput`), a tar file (`x.tar`, or any name with `format: 'tar'`), or `-`: a tar stream on `stdout`.
   */
  out: string;
  /** `dir` or `tar`; default `tar` when `out` is `-` or ends in `.tar`, else `dir`. */
  format?: 'dir' | 'tar';
  /** Where `out: '-'` writes the tar stream (the CLI passes process.stdout). */
  stdout?: Writable | undefined;
  /** The user's home directory, which OUT may never be (the CLI passes `$HOME`). Default: `os.homedir()`. */
  home?: string;
  /** Parallel blob downloads. Default 4. */
  jobs?: number;
  /**
   * Running as root: apply owners, setuid/setgid bits, `user.*`/`security.capability` xattrs and create device nodes
   * (the CLI passes true for uid 0). Default false: ownership is recorded in lkvol.json instead.
   */
  applyOwnership?: boolean;
  /** Caps on what one volume may unpack. */
  limits?: { maxBytes?: number | undefined; maxEntries?: number | undefined; maxDepth?: number | undefined };
  /**
   * When set, synthesised entries (directories, specs, lkvol.json, OCI layouts) are dated at these seconds since the
   * epoch.
   */
  sourceDateEpoch?: number | undefined;
  /** A host-path bind policy file (`--policy`), relative to `cwd`: every bind of a host path must keep to it. */
  policy?: string | undefined;
  /**
   * Require lkvol.lock beside the first file to exist and to pin exactly the files' references (`--locked`; default
   * false).
   */
  locked?: boolean;
  /** Also unpack each container's image into its bundle, as LinuxKit lays it out (`--rootfs`; default false). */
  rootfs?: boolean;
  /**
   * Reuse unchanged, intact volumes of the previous OUT, or leave OUT alone when nothing changed (default true;
   * `--no-reuse`).
   */
  reuse?: boolean;
}

type OptionalKeys =
  'dockerConfigPath' | 'env' | 'signal' | 'sourceDateEpoch' | 'proxy' | 'retry' | 'stdout' | 'policy' | 'extraCaCerts';
/** Every default filled in, and every path but `files` and `out` (named in messages as given) absolute. */
export type ResolvedBuildOptions = Required<Omit<BuildOptions, OptionalKeys>> & Pick<BuildOptions, OptionalKeys>;

/**
 * Fills defaults and checks option combinations.
 * @throws LKVOL_USAGE for `offline` with `pull`, and for a malformed mirror spec.
 */
export function resolveBuildOptions(o: BuildOptions): ResolvedBuildOptions {
  const cwd = resolveCwd(o.cwd);
  return {
    ...o,
    ...resolveRegistryOptions('build', o),
    ...resolvePaths(cwd, o),
    cwd,
    home: resolve(cwd, o.home ?? homedir()),
    jobs: o.jobs ?? 4,
    applyOwnership: o.applyOwnership ?? false,
    limits: o.limits ?? {},
    reuse: o.reuse ?? true,
    rootfs: o.rootfs ?? false,
    locked: o.locked ?? false,
    format: outputFormat(o),
  };
}

/** `format`, or the one `out` implies; `dir` for a name that implies tar is a contradiction. @throws LKVOL_USAGE */
function outputFormat(o: BuildOptions): 'dir' | 'tar' {
  const tarName = o.out === '-' || /\.tar$/i.test(o.out);
  if (o.format === 'dir' && tarName)
    throw new LkvolError('LKVOL_USAGE', `output ${JSON.stringify(o.out)} is a tar output, but the format is dir`, {
      hint: 'leave out --format, or name a directory',
    });
  if (o.out === '-' && o.stdout === undefined)
    throw new LkvolError('LKVOL_USAGE', 'output "-" needs a stream to write the tar to', { hint: 'pass `stdout`' });
  return o.format ?? (tarName ? 'tar' : 'dir');
}

/** The caps of one volume: its `sizeLimit` stands in for the byte cap when it is the tighter of the two. */
export function volumeLimits(volume: LoadedVolume, limits: ResolvedBuildOptions['limits']): VolumeLimits {
  const bySize =
    volume.sizeLimit !== undefined && (limits.maxBytes === undefined || volume.sizeLimit <= limits.maxBytes);
  return {
    maxBytes: bySize ? volume.sizeLimit : limits.maxBytes,
    maxEntries: limits.maxEntries,
    maxDepth: limits.maxDepth,
    limitName: bySize ? `sizeLimit of volume "${volume.name}"` : undefined,
  };
}
