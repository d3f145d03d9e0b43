// Checks a timed lkvol output against umoci's rootfs, entry by entry: a timing of a wrong build is
// no result. Compared: type, mode, owner, size and sha256 of content, link target, hardlink group
// (tree.ts describeNode), and the mtime of every entry but the one kind umoci dates "now".
import { describeNode, walkTree, type TreeNode } from '../tree.js';

/** umoci's tree of one image, as lines to compare against. */
export interface ReferenceTree {
  /** One line per entry: describeNode and the mtime. */
  lines: string[];
  /** Directories whose time is not compared (see readReferenceTree). */
  skipTime: ReadonlySet<string>;
}

/** A bench run whose output differs from the reference; the bench stops with exit 1. */
export class TreeMismatchError extends Error {}

/** Walks umoci's rootfs (the root directory itself left out: each tool makes its own). */
export async function readReferenceTree(rootfs: string, unpackStart: number): Promise<ReferenceTree> {
  const nodes = await walkTree(rootfs);
  // NB: umoci applies a directory entry's time at once, so a directory whose children a later entry
  // of the same layer changes (a whiteout, an opaque marker, a new file after the directory entry)
  // keeps the time of the unpack; lkvol applies directory times at the end of each layer and keeps
  // the image's. No image time is that recent, so such directories are recognised and only their
  // time is left out (the same rule as lib/layer/umoci.integration.test.ts).
  const skipTime = new Set(nodes.filter((n) => n.type === 'dir' && n.mtime >= unpackStart).map((n) => n.path));
  return { lines: nodes.map((n) => describe(n, skipTime)), skipTime };
}

/** Throws TreeMismatchError, listing the first differences, when `lower` is not the reference tree. */
export async function assertSameTree(want: ReferenceTree, lower: string, what: string): Promise<void> {
  const got = (await walkTree(lower)).map((n) => describe(n, want.skipTime));
  if (got.length === want.lines.length && got.every((line, i) => line === want.lines[i])) return;
  const wanted = new Set(want.lines);
  const have = new Set(got);
  const missing = want.lines.filter((l) => !have.has(l));
  const extra = got.filter((l) => !wanted.has(l));
  const show = (lines: string[]): string =>
    lines
      .slice(0, 15)
      .map((l) => `    ${l}`)
      .join('\n') + (lines.length > 15 ? `\n    … ${lines.length - 15} more` : '');
  throw new TreeMismatchError(
    `${what}: ${lower} differs from umoci's rootfs (${got.length} entries, umoci ${want.lines.length})\n` +
      `  only in umoci's tree (${missing.length}):\n${show(missing)}\n  only in lkvol's tree (${extra.length}):\n${show(extra)}`,
  );
}

function describe(n: TreeNode, skipTime: ReadonlySet<string>): string {
  return skipTime.has(n.path) ? `${describeNode(n)} t=(umoci: unpack time)` : `${describeNode(n)} t=${n.mtime}`;
}
