// The stat walk behind a tree's fingerprint, in pieces two threads can share (fingerprints.ts): a plan of the top
// levels, then tasks (whole subtrees below them) in any order, joined back in byte order of path.
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { compareBytes } from '../internal/compare.js';
import { below } from '../internal/path.js';

/**
 * One entry of a tree's fingerprint: path, type, mode, owner, size and link count (neither for
 * directories, whose size and count depend on the file system: btrfs counts 1), and mtime to the
 * millisecond (times round-trip through doubles). Enough to notice a tree edited after the build
 * without reading any file. ctime would be stronger but changes whenever lkvol hard-links a file
 * into a new output. It lands in lkvol.json, so it holds only what the same build gives on any host
 * (but for times a file system cannot store, before 1970 or past 2038 on some).
 */
export function fingerprintLine(path: string, st: Stats, nlink: number): string {
  const dir = st.isDirectory();
  const type = dir ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
  return `${path}\0${type}\0${(st.mode & 0o7777).toString(8)}\0${st.uid}\0${st.gid}\0${dir ? 0 : st.size}\0${Math.round(st.mtimeMs)}\0${dir ? 0 : nlink}\0${st.rdev}\n`;
}

/** A tree's walk, split: its fingerprint lines in order, where a number stands for the lines of `tasks[n]`. */
export interface WalkPlan {
  /** The root directory before the walk: a tree that replaced it meanwhile is not the one walked. */
  root: { dev: number; ino: number };
  segments: Array<string | number>;
  /** Directories below the root (relative paths), each walked whole as one task. */
  tasks: string[];
}

/** Slots of the Int32 claims two threads share per tree: the count of tasks taken. */
export const nextTask = 0;
/** Slot set when the tree's fingerprint is not wanted any more (or is taken): the worker stops. */
export const dropped = 1;

/** Tasks a plan aims for: enough that two threads finish close together, few enough to post cheaply. */
const planTasks = 32;
/** Levels a plan lists at most before the rest is left to tasks. */
const planDepth = 3;

/**
 * How often a walk looks up from its work: `turn` is awaited after every `every` entries, counted across the plan and
 * every task of one tree on one thread (the main thread's look at the event loop and its signal).
 */
export interface Pace {
  /** Counts an entry: true when a turn is due. */
  due(): boolean;
  turn(): Promise<void> | void;
}

/** A {@link Pace} that turns after every `every` entries. */
export function createPace(every: number, turn: () => Promise<void> | void): Pace {
  let since = 0;
  return {
    due: () => {
      if (++since < every) return false;
      since = 0;
      return true;
    },
    turn,
  };
}

/**
 * Lists the top levels of `out/tree` (level by level, until there are {@link planTasks} directories below them or
 * {@link planDepth} levels are listed) and leaves each directory below them to a task. Undefined when the tree is not
 * intact: a component of `tree` is not a real directory (never walk through a symlink), or something cannot be read
 * or vanished.
 * @throws the fs error for anything else, or what `pace.turn` throws.
 */
export async function planWalk(out: string, tree: string, pace?: Pace): Promise<WalkPlan | undefined> {
  const parts = tree.split('/');
  const chain = parts.map((_, i) => below(out, parts.slice(0, i + 1).join('/')));
  if (!chain.every((p) => lstatSync(p, { throwIfNoEntry: false })?.isDirectory() === true)) return undefined;
  const root = below(out, tree);
  const st = lstatSync(root, { throwIfNoEntry: false });
  if (st === undefined) return undefined;
  type Node = { rel: string; parts?: Array<string | Node> };
  const top: Node = { rel: '' };
  let frontier = [top];
  for (let depth = 0; depth < planDepth && frontier.length > 0 && frontier.length < planTasks; depth++) {
    const next: Node[] = [];
    for (const node of frontier) {
      const names = readNames(below(root, node.rel));
      if (names === undefined) return undefined;
      node.parts = [];
      for (const name of names) {
        if (pace?.due() === true) await pace.turn();
        const path = node.rel === '' ? name : `${node.rel}/${name}`;
        const entry = lstatSync(below(root, path), { throwIfNoEntry: false });
        if (entry === undefined) return undefined;
        node.parts.push(fingerprintLine(path, entry, entry.nlink));
        if (!entry.isDirectory()) continue;
        const child: Node = { rel: path };
        node.parts.push(child);
        next.push(child);
      }
    }
    frontier = next;
  }
  // Depth first: each directory's lines, then, at its place, the lines or the task of each subdirectory.
  const plan: WalkPlan = { root: { dev: st.dev, ino: st.ino }, segments: [], tasks: [] };
  let text = '';
  const flatten = (node: Node): void => {
    if (node.parts === undefined) {
      if (text !== '') plan.segments.push(text);
      text = '';
      plan.segments.push(plan.tasks.push(node.rel) - 1);
      return;
    }
    for (const part of node.parts) {
      if (typeof part === 'string') text += part;
      else flatten(part);
    }
  };
  flatten(top);
  if (text !== '') plan.segments.push(text);
  return plan;
}

/**
 * The fingerprint lines of everything below directory `rel` of `root`, depth first in byte order of path; undefined
 * when something cannot be read or vanished.
 * @throws the fs error for anything else, or what `pace.turn` throws.
 */
export async function walkTask(root: string, rel: string, pace?: Pace): Promise<string | undefined> {
  const lines: string[] = [];
  const walk = async (dir: string): Promise<boolean> => {
    const names = readNames(below(root, dir));
    if (names === undefined) return false;
    for (const name of names) {
      if (pace?.due() === true) await pace.turn();
      const path = dir === '' ? name : `${dir}/${name}`;
      const st = lstatSync(below(root, path), { throwIfNoEntry: false });
      if (st === undefined) return false;
      lines.push(fingerprintLine(path, st, st.nlink));
      if (st.isDirectory() && !(await walk(path))) return false;
    }
    return true;
  };
  return (await walk(rel)) ? lines.join('') : undefined;
}

/** A directory's names in byte order; undefined when it cannot be read (see {@link ifReadable}). */
function readNames(dir: string): string[] | undefined {
  return ifReadable(() => readdirSync(dir).sort(compareBytes));
}

/** `read()` of a directory of a previous output, or undefined when it cannot be read (EACCES, ENOENT, ENOTDIR). */
export function ifReadable<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    if (['EACCES', 'ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
}
