// lkvol.json: the build record (what every image resolved to, what each volume holds), serialised stably.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stableJson } from '../internal/stable-json.js';

export interface LayerRecord {
  digest: string;
  /** Digest of the uncompressed layer; null in `format: oci` volumes, which keep layers compressed. */
  diffId: string | null;
  mediaType: string;
  size: number;
}

export interface VolumeRecord {
  name: string;
  /** The image reference as normalised, or null for a blank volume. */
  image: string | null;
  /** Digest the reference resolved to (an index or a manifest), or null. */
  digest: string | null;
  /** Digest of the manifest whose layers were unpacked, or null. */
  manifest: string | null;
  platform: string | null;
  format: 'filesystem' | 'oci';
  readonly: boolean;
  layers: LayerRecord[];
  /** Entries other than directories in lower/. */
  files: number;
  /** Regular-file bytes in lower/. */
  bytes: number;
  /** Content digest of lower/ (see README "lkvol.json"). */
  contentDigest: string;
  /**
   * Only when ownership could not be applied (not root), and only paths whose files differ: the
   * owner and mode the image gives them (e.g. root:root, or a setuid bit dropped). Sorted by path.
   */
  ownership?: OwnershipRecord[];
  /** Devices and FIFOs of the image that could not be created here (not root). Sorted by path. */
  skipped?: SkippedRecord[];
  /** Filesystem image volumes: digest of everything that decides lower/ (see reuse.ts `volumeInputs`). */
  inputs?: string;
  /**
   * A provisioner's volume: the command that ran, digests of its params and of the tar stream it wrote (the tree's is
   * contentDigest).
   */
  provisioner?: { command: string; paramsDigest: string; streamDigest: string };
  /** Filesystem image volumes: digest of a stat walk of lower/, to tell later whether it is intact (tree.ts). */
  fingerprint?: string;
}

/** The image's owner and permission bits of a path of lower/ whose file shows others. */
export interface OwnershipRecord {
  /** Relative to lower/, `/`-separated. */
  path: string;
  uid: number;
  gid: number;
  /** Permission bits in octal, e.g. "4755". */
  mode: string;
}

/** A device node or FIFO of the image that is not in lower/. */
export interface SkippedRecord {
  path: string;
  type: 'char' | 'block' | 'fifo';
  mode: string;
  uid: number;
  gid: number;
  major: number;
  minor: number;
  /** Seconds since the epoch, as the layer dates it. */
  mtime: number;
}

export interface ContainerRecord {
  section: string;
  name: string;
  image: string;
  digest: string;
  manifest: string;
  path: string;
  /** `--rootfs` only: where the bundle's image files are. */
  rootfs?: RootfsRecord;
}

/**
 * A bundle's root filesystem (`--rootfs`). `path` is below OUT: the bundle's own `lower/` (or `rootfs/`
 * when read-only), or an earlier bundle's when that one has the same image (LinuxKit unpacks an image
 * once); only the bundle holding the files has the rest.
 */
export interface RootfsRecord {
  path: string;
  layers?: LayerRecord[];
  files?: number;
  bytes?: number;
  contentDigest?: string;
  ownership?: OwnershipRecord[];
  skipped?: SkippedRecord[];
  /** As for a volume: what decides the tree (see `rootfsInputs`), and a stat walk of it, to reuse it. */
  inputs?: string;
  fingerprint?: string;
}

export interface BuildRecord {
  lkvolVersion: string;
  platform: string;
  /** Every image reference used, mapped to the digest it resolved to. */
  images: Record<string, string>;
  volumes: VolumeRecord[];
  containers: ContainerRecord[];
}

/**
 * Writes `lkvol.json` into `dir` with the runtime specs' serialiser: keys sorted by UTF-8 bytes at every level, 2-space
 * indent, final newline.
 */
export async function writeRecord(dir: string, record: BuildRecord): Promise<void> {
  await writeFile(join(dir, 'lkvol.json'), stableJson(record));
}

/**
 * True when `value` (a parsed lkvol.json) has the fields every lkvol build writes, so a file merely
 * named lkvol.json is not taken for one: a build replaces OUT only when it holds such a record.
 */
export function isBuildRecord(value: unknown): value is BuildRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  return (
    typeof r['lkvolVersion'] === 'string' &&
    r['lkvolVersion'] !== '' &&
    typeof r['platform'] === 'string' &&
    isObject(r['images']) &&
    Array.isArray(r['volumes']) &&
    Array.isArray(r['containers'])
  );
}
