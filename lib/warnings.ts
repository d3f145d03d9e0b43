// The stable codes of lkvol's warnings: what a `warning` BuildEvent and a config warning carry.

/**
 * Stable warning codes, in the order of the README's "Warnings" table. Codes are API: match on `code`, not
 * on the message. A warning never changes the exit code. Each module that warns declares the subset it
 * emits (config `ConfigWarningCode`, layer `LayerWarning`, registry `MirrorWarning`, `CredentialWarning`);
 * the BuildEvent they all end up in takes only these.
 */
export const warningCodes = [
  /** The image's platform differs from the one asked for, or an older compatible variant was used. */
  'LKVOL_WARN_PLATFORM',
  /** A configured credential helper is missing or has nothing for the registry; the pull goes on anonymously. */
  'LKVOL_WARN_CREDENTIALS',
  /** A mirror failed; the registry itself was used. */
  'LKVOL_WARN_MIRROR',
  /** The registry was unreachable, so a tag was resolved at a mirror. */
  'LKVOL_WARN_MIRROR_RESOLVE',
  /** Device nodes (as non-root) or FIFOs could not be created; lkvol.json lists them under `skipped`. */
  'LKVOL_WARN_DEVICE_SKIPPED',
  /** Extended attributes that are never applied (`trusted.*`, `security.selinux`, overlay) or cannot be as non-root. */
  'LKVOL_WARN_XATTR_DROPPED',
  /** AUFS `.wh..wh.` metadata entries, not extracted. */
  'LKVOL_WARN_AUFS_SKIPPED',
  /** Bytes after a layer's end-of-archive marker: hashed, not extracted. */
  'LKVOL_WARN_TRAILING_DATA',
  /** A layer holds global PAX headers; none of their records is applied. */
  'LKVOL_WARN_GLOBAL_PAX',
  /** A cached blob failed verification and was fetched again. */
  'LKVOL_WARN_CACHE_CORRUPT',
  /** A bind, tmpfs or mount destination is relative (kept as written, as LinuxKit does). */
  'LKVOL_WARN_RELATIVE_DESTINATION',
  /** A field LinuxKit accepts and then drops; lkvol applies it, so LinuxKit would write another spec. */
  'LKVOL_WARN_LINUXKIT_IGNORES',
  /** A `uid`, `gid` or `additionalGids` names a container whose name repeats; it gets the last one's id. */
  'LKVOL_WARN_AMBIGUOUS_ID',
  /** A host-path bind source contains `..` (an error under `--policy`). */
  'LKVOL_WARN_HOST_PATH_DOTDOT',
  /** lkvol.lock lacks a reference of the system files; it was resolved from its tag. */
  'LKVOL_WARN_NOT_LOCKED',
  /** After a failed build, its staging directory could not be removed; the next build into OUT tries again. */
  'LKVOL_WARN_STAGING_LEFT',
  /** The build succeeded, but the previous OUT it moved aside could not be removed; the next build tries again. */
  'LKVOL_WARN_PREVIOUS_LEFT',
] as const;

/** One of {@link warningCodes}. */
export type WarningCode = (typeof warningCodes)[number];
