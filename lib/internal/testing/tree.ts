// Test helper: reads a directory tree into a sorted, comparable list (type, mode, owner, content, links), and
// replaces one with a copy of itself.
import { createHash } from 'node:crypto';
import { cpSync, renameSync } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** One path of a tree as tests compare it. */
export interface TreeNode {
  /** Relative to the walked root, `/`-separated; the root itself is `.`. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket';
  /** Permission bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of a file; 0 otherwise. */
  size: number;
  /** sha256 hex of a file's content; '' otherwise. */
  sha256: string;
  /** Symlink target; '' otherwise. */
  link: string;
  /** For files with more than one name: the first path (sorted) of the inode; '' otherwise. */
  inode: string;
  /** Modification time in whole seconds. */
  mtime: number;
}

/** Options of {@link walkTree}. */
export interface WalkOptions {
  /** Include the root itself as `.` (default false). */
  includeRoot?: boolean;
}

/** Walks `root` without following symlinks and returns its nodes sorted by path. */
export async function walkTree(root: string, opts: WalkOptions = {}): Promise<TreeNode[]> {
  const nodes: TreeNode[] = [];
  if (opts.includeRoot === true) nodes.push(await readNode(root, '.'));
  await walkDir(root, '', nodes);
  nodes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  // Name each hardlink group by its first path, so groups compare across trees.
  const first = new Map<string, string>();
  for (const n of nodes) {
    if (n.inode === '') continue;
    if (!first.has(n.inode)) first.set(n.inode, n.path);
    n.inode = first.get(n.inode) as string;
  }
  return nodes;
}

async function walkDir(root: string, rel: string, nodes: TreeNode[]): Promise<void> {
  for (const name of (await readdir(join(root, rel))).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const node = await readNode(join(root, path), path);
    nodes.push(node);
    if (node.type === 'dir') await walkDir(root, path, nodes);
  }
}

async function readNode(abs: string, path: string): Promise<TreeNode> {
  const st = await lstat(abs);
  const type = nodeType(st);
  const content = type === 'file' ? await readFile(abs) : undefined;
  return {
    path,
    type,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: content?.length ?? 0,
    sha256: content === undefined ? '' : createHash('sha256').update(content).digest('hex'),
    link: type === 'symlink' ? await readlink(abs) : '',
    inode: type !== 'dir' && st.nlink > 1 ? `${st.dev}:${st.ino}` : '',
    mtime: Math.floor(st.mtimeMs / 1000),
  };
}

function nodeType(st: import('node:fs').Stats): TreeNode['type'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'socket';
}

/**
 * One line per node for readable assertion diffs: `path type mode uid:gid [size sha256:8] [-> link] [#group]`.
 * Times are left out; compare them separately where they matter.
 */
export function describeNode(n: Omit<TreeNode, 'mtime'>): string {
  const parts = [n.path, n.type, n.mode.toString(8).padStart(4, '0'), `${n.uid}:${n.gid}`];
  if (n.type === 'file') parts.push(String(n.size), n.sha256.slice(0, 8));
  if (n.link !== '') parts.push('->', n.link);
  if (n.inode !== '') parts.push(`#${n.inode}`);
  return parts.join(' ');
}

/** {@link describeNode} for every node. */
export function describeTree(nodes: ReadonlyArray<Omit<TreeNode, 'mtime'>>): string[] {
  return nodes.map(describeNode);
}

/** Owner and hardlink group of an expected node; default 0:0, no group. */
export interface WantOptions {
  uid?: number;
  gid?: number;
  /** First path (sorted) of the hardlink group the node belongs to. */
  inode?: string;
}

/** The {@link describeNode} line of an expected directory. */
export function wantDir(path: string, mode = 0o755, o: WantOptions = {}): string {
  return describeNode({
    path,
    type: 'dir',
    mode,
    uid: o.uid ?? 0,
    gid: o.gid ?? 0,
    size: 0,
    sha256: '',
    link: '',
    inode: o.inode ?? '',
  });
}

/** The {@link describeNode} line of an expected regular file with this content (and mode, default 0644). */
export function wantFile(
  path: string,
  content: string | Uint8Array = '',
  o: WantOptions & { mode?: number } = {},
): string {
  const mode = o.mode ?? 0o644;
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  const sha256 = createHash('sha256').update(data).digest('hex');
  return describeNode({
    path,
    type: 'file',
    mode,
    uid: o.uid ?? 0,
    gid: o.gid ?? 0,
    size: data.length,
    sha256,
    link: '',
    inode: o.inode ?? '',
  });
}

/** The {@link describeNode} line of an expected symlink (mode 0777, as Linux reports symlinks). */
export function wantSymlink(path: string, target: string, o: WantOptions = {}): string {
  return describeNode({
    path,
    type: 'symlink',
    mode: 0o777,
    uid: o.uid ?? 0,
    gid: o.gid ?? 0,
    size: 0,
    sha256: '',
    link: target,
    inode: o.inode ?? '',
  });
}

/**
 * Every extended attribute below `root` as `path name=0xHEX` lines, sorted, read by `getfattr`
 * (Debian package attr) without following symlinks: an independent reader for byte-exact checks.
 */
export async function readXattrs(root: string): Promise<string[]> {
  const { execFile } = await import('node:child_process');
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      'getfattr',
      ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', root],
      { maxBuffer: 64 << 20 },
      (err, out) => (err ? reject(err) : resolve(out)),
    );
  });
  const lines: string[] = [];
  let file = '';
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) file = line.slice(8) === root ? '.' : line.slice(8 + root.length + 1);
    else if (line !== '') lines.push(`${file} ${line}`);
  }
  return lines.sort();
}

/**
 * Replaces the directory at `path` with a copy of itself (times and link targets kept, hardlinks not), as a
 * concurrent build swapping in its own copy of the same tree would: the same content, another directory.
 */
export function replaceWithCopy(path: string): void {
  cpSync(path, `${path}.copy`, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  renameSync(path, `${path}.gone`);
  renameSync(`${path}.copy`, path);
}
