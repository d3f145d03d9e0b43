// BuildEvent: lib's only channel for progress and warnings (the CLI decides how to show them).
import type { WarningCode } from './warnings.js';

/** Everything lib reports while it works. Consumers must ignore kinds they do not know. */
export type BuildEvent =
  | { kind: 'resolve'; image: string; digest: string }
  /** The reference was pinned to `digest` by the lock file `lock`, instead of resolving its tag. */
  | { kind: 'pinned'; image: string; digest: string; lock: string }
  /**
   * A blob is fetched into the cache: downloaded, or (`from`: the local image, `oci-layout:PATH`) copied
   * from a layout or archive.
   */
  | { kind: 'blob-start'; digest: string; size: number; cached: boolean; from?: string }
  | { kind: 'blob-progress'; digest: string; bytes: number; size: number }
  | { kind: 'blob-done'; digest: string; size: number; cached: boolean; from?: string }
  | { kind: 'volume-start'; volume: string; image: string | undefined; provisioner?: string }
  /** A layer of a volume's image starts to be applied (its blob may still be downloading), then is applied. */
  | { kind: 'layer-start' | 'layer-applied'; volume: string; digest: string; index: number; count: number }
  /** A layer being applied: its entries and file bytes so far (every 256 entries). */
  | { kind: 'layer-progress'; volume: string; digest: string; entries: number; bytes: number }
  | { kind: 'layer-progress'; bundle: string; digest: string; entries: number; bytes: number }
  /** `reused`: the previous output's tree was intact and its inputs unchanged, so it was linked, not extracted. */
  | { kind: 'volume-done'; volume: string; files: number; bytes: number; reused: boolean }
  /** `--rootfs`: a container's image unpacked into its bundle (`bundle`: `containers/onboot/000-name`). */
  | { kind: 'rootfs-start'; bundle: string; image: string }
  | { kind: 'layer-start' | 'layer-applied'; bundle: string; digest: string; index: number; count: number }
  | { kind: 'rootfs-done'; bundle: string; files: number; bytes: number; reused: boolean }
  | { kind: 'spec-written'; section: string; name: string; path: string }
  /** A section of the system files lkvol reads but does not build (LinuxKit's kernel, init, files and trust). */
  | { kind: 'ignored'; section: 'kernel' | 'init' | 'files' | 'trust' }
  /**
   * Something the user should know that does not stop the build; `code` is stable (lib/warnings.ts,
   * README "Warnings").
   */
  | { kind: 'warning'; code: WarningCode; message: string }
  | { kind: 'done'; out: string };

/** Callback receiving BuildEvents; lib never assumes anybody listens. */
export type EventSink = (event: BuildEvent) => void;

/** The sink used when the caller passes none. */
export const discardEvents: EventSink = () => {};
