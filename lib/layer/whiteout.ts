// OCI whiteouts: `.wh.<name>` and `.wh..wh..opq` hide lower-layer content, never this layer's own.
import { readdirSync } from 'node:fs';
import { UnsafePathError } from '../errors.js';
import { removePath } from './dir-cache.js';
import { forgetSkipped, markWritten, type LayerContext } from './context.js';
import { noteDirChange } from './metadata.js';
import { hostPath, lstatIfExists, resolveInRoot, type EntryRef } from './paths.js';

const prefix = '.wh.';
const opaqueMarker = '.wh..wh..opq';

/** What a base name means to the whiteout rules. */
export type WhiteoutKind =
  { kind: 'none' } | { kind: 'opaque' } | { kind: 'aufs' } | { kind: 'whiteout'; target: string };

/**
 * Classifies a base name (image-spec layer.md "Whiteouts").
 * @throws LKVOL_LAYER_UNSAFE_PATH for `.wh.` alone and for whiteouts naming `.` or `..`.
 */
export function classifyWhiteout(base: string, ref: EntryRef): WhiteoutKind {
  if (!base.startsWith(prefix)) return { kind: 'none' };
  if (base === opaqueMarker) return { kind: 'opaque' };
  if (base.startsWith(prefix + prefix)) return { kind: 'aufs' };
  const target = base.slice(prefix.length);
  if (target === '') throw new UnsafePathError({ ...ref, reason: 'whiteout ".wh." names nothing' });
  if (target === '.' || target === '..')
    throw new UnsafePathError({ ...ref, reason: `whiteout names ${JSON.stringify(target)}, outside its directory` });
  return { kind: 'whiteout', target };
}

/**
 * True when a path lies in AUFS bookkeeping (`.wh..wh.plnk/…`, `.wh..wh.aufs`): moby skips such
 * entries, and they are never content of the image.
 */
export function isAufsMetadata(parts: readonly string[]): boolean {
  return parts.some((p, i) => p.startsWith(prefix + prefix) && !(i === parts.length - 1 && p === opaqueMarker));
}

/**
 * Applies `.wh.<target>` found in directory `dir` (cleaned components): removes `<target>` of the
 * lower layers (a whole tree, a symlink itself, never what it points to), wherever the whiteout
 * stands in the layer. What this layer wrote at or below `<target>` stays, with the directories
 * leading to it; lower content around it goes (umoci and go-containerregistry do the same in
 * either order). The directory is resolved inside the root, so a whiteout below a symlinked
 * directory stays inside the root. `ref` names the whiteout entry in errors.
 */
export function applyWhiteout(
  ctx: LayerContext,
  dir: readonly string[],
  { target, ref }: { target: string; ref: EntryRef },
): void {
  const parent = resolveInRoot(ctx.root, dir, { followFinal: true, ref, known: ctx.volume.realDirs });
  const rel = [...parent, target];
  const key = rel.join('/');
  const st = lstatIfExists(hostPath(ctx.root, rel));
  if (ctx.written.has(key) || ctx.ancestors.has(key)) {
    if (st?.isDirectory() === true) hideLower(ctx, rel);
    return;
  }
  forgetSkipped(ctx, rel);
  if (st === undefined) return;
  noteDirChange(ctx, parent);
  removePath(ctx.root, rel, { cache: ctx.volume.realDirs, isDir: st.isDirectory() });
}

/**
 * Applies `.wh..wh..opq` in directory `dir`: removes every child that this layer did not create,
 * wherever the marker sits in the archive, so same-layer siblings survive (containerd's
 * `unpackedPaths`, umoci's `upperPaths`). A directory that does not exist is left absent. The
 * directory itself is kept, and counts as written so a later whiteout of the layer keeps it.
 */
export function applyOpaque(ctx: LayerContext, dir: readonly string[], ref: EntryRef): void {
  const rel = resolveInRoot(ctx.root, dir, { followFinal: true, ref, known: ctx.volume.realDirs });
  const st = lstatIfExists(hostPath(ctx.root, rel));
  if (st === undefined || !st.isDirectory()) return;
  hideLower(ctx, rel);
  if (rel.length > 0) markWritten(ctx, rel);
}

/** Removes everything below directory `rel` that this layer did not write, devices that were never created included. */
function hideLower(ctx: LayerContext, rel: readonly string[]): void {
  const prefix = rel.length === 0 ? '' : `${rel.join('/')}/`;
  // Devices that could not be created are not on disk for pruneLower to find.
  for (const path of ctx.volume.skipped.keys())
    if (path.startsWith(prefix) && !ctx.written.has(path)) ctx.volume.skipped.delete(path);
  pruneLower(ctx, rel);
}

/** Removes the children of `rel` that are neither written by this layer nor lead to such a path. */
function pruneLower(ctx: LayerContext, rel: readonly string[]): void {
  for (const dirent of readdirSync(hostPath(ctx.root, rel), { withFileTypes: true })) {
    const child = [...rel, dirent.name];
    const key = child.join('/');
    const written = ctx.written.has(key);
    const leadsToWritten = ctx.ancestors.has(key);
    if (!written && !leadsToWritten) {
      forgetSkipped(ctx, child);
      noteDirChange(ctx, rel);
      removePath(ctx.root, child, { cache: ctx.volume.realDirs, isDir: dirent.isDirectory() });
      continue;
    }
    // A directory of this layer may hold lower-layer children (a merged directory): hide those too.
    if (dirent.isDirectory()) pruneLower(ctx, child);
  }
}
