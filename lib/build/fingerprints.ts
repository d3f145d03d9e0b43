// Fingerprint walks of the previous output's trees, shared with a worker thread: it starts while the main thread
// still resolves images, and both then take the walk's tasks, so a no-change rebuild waits for half a walk, or none.
import { createHash } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { LkvolError } from '../errors.js';
import { entriesPerTurn, throwIfCancelled, yieldTurn } from '../internal/async.js';
import { startWorker } from '../internal/builtin.js';
import { below } from '../internal/path.js';
import type { BuildRecord } from './record.js';
import { createPace, dropped, nextTask, planWalk, walkTask, type WalkPlan } from './fingerprint-walk.js';

/** Messages to the worker (`fingerprint-worker.ts`): walk `tree` of `out` too, taking tasks through `claims`. */
export interface WalkRequest {
  id: number;
  out: string;
  tree: string;
  /** Int32 slots `nextTask` and `dropped` (fingerprint-walk.ts), shared by both threads. */
  claims: SharedArrayBuffer;
}
/**
 * Messages from the worker: a task's lines (null: not intact), a task it failed at (an fs error, or the tree was
 * dropped), left to the main thread, and `done` when it takes no more tasks of the tree (whatever it did not report
 * is then the main thread's). A task names its directory and the root its plan was made of: each thread plans on its
 * own, and a tree changed or replaced in between gives two plans.
 */
export type WalkReport =
  | { type: 'task'; id: number; task: number; rel: string; root: WalkPlan['root']; lines: string | null }
  | { type: 'failed'; id: number; task: number }
  | { type: 'done'; id: number };

/** A tree's fingerprint, and the root directory it was taken of. */
export interface TreeFingerprint {
  fingerprint: string;
  root: { dev: number; ino: number };
  /** The walk's tasks (subtrees below its plan), and how many of them the worker walked. */
  tasks: number;
  fromWorker: number;
}

/** Options of {@link createFingerprintWalks}. */
export interface WalksOptions {
  /** Walk on a worker thread too (default false: the main thread alone, when asked). */
  background?: boolean | undefined;
  /** The worker's module and its `workerData` (tests give one that misbehaves). */
  worker?: { url: URL; data?: unknown } | undefined;
}

/** The fingerprint walks of one build. */
export interface FingerprintWalks {
  /** Starts walking `tree` (relative to `out`) on the worker, for a later {@link fingerprint} of it. */
  prefetch(out: string, tree: string): void;
  /**
   * The fingerprint of `tree` (relative to `out`, see fingerprint-walk.ts); undefined when it is not intact (a
   * component of it is not a real directory, something cannot be read or vanished). One walk per tree and build.
   * @throws the fs error, LKVOL_CANCELLED when `signal` aborts.
   */
  fingerprint(out: string, tree: string, signal?: AbortSignal | undefined): Promise<TreeFingerprint | undefined>;
  /** Tells the worker that `tree` is not wanted (its inputs changed): it stops walking it. */
  drop(out: string, tree: string): void;
  /** Stops the worker. */
  close(): void;
}

/**
 * Entries of the previous output's trees from which a worker walks with the main thread. Below, a walk is nearly over
 * before the worker is up (~30 ms) and the worker costs the main thread more than it saves: measured on 5.9 k files, a
 * warm no-change rebuild took 267 ms against 248 ms without; on 21.6 k files 274 against 282 ms, 362 against 390 ms
 * after a cache drop.
 */
const workerFromEntries = 10_000;

/** Whether a worker thread is worth starting to walk the trees of this previous build (its record). */
export function worthAWorker(previous: BuildRecord): boolean {
  const files = previous.volumes.reduce((n, v) => n + (v.fingerprint === undefined ? 0 : v.files), 0);
  return files >= workerFromEntries;
}

// Beside this file in lib/ and in dist/ alike, whatever the caller's working directory.
const defaultWorkerUrl = new URL('./fingerprint-worker.js', import.meta.url);

/** What the worker left to the main thread: a task it failed at, or any it will never report once it is gone. */
const redo = Symbol('redo');

interface TreeWalk {
  id: number;
  /** Whether the worker was asked to walk it too, and whether it is done with (walked or dropped). */
  requested: boolean;
  settled: boolean;
  shared: SharedArrayBuffer;
  claims: Int32Array;
  /** The worker's tasks, by number: their directory, its plan's root and the lines (null: not intact). */
  tasks: Map<number, { rel: string; root: WalkPlan['root']; lines: string | null } | typeof redo>;
  /** Whether the worker takes no more of its tasks. */
  workerDone: boolean;
  result?: Promise<TreeFingerprint | undefined>;
}

export function createFingerprintWalks(o: WalksOptions = {}): FingerprintWalks {
  const trees = new Map<string, TreeWalk>();
  const byId: TreeWalk[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  let worker: Worker | undefined;
  let dead = o.background !== true;
  if (!dead) {
    try {
      worker = startWorker(o.worker?.url ?? defaultWorkerUrl, o.worker?.data);
    } catch {
      dead = true;
    }
  }
  if (worker !== undefined) {
    // Only while the main thread waits for it may the worker keep the process alive.
    worker.unref();
    worker.on('message', (m: WalkReport) => {
      const walk = byId[m.id];
      if (walk === undefined || walk.settled) return;
      if (m.type === 'done') walk.workerDone = true;
      else walk.tasks.set(m.task, m.type === 'task' ? m : redo);
      wake();
    });
    const lost = () => {
      dead = true;
      wake();
    };
    worker.on('error', lost);
    worker.on('exit', lost);
  }

  /** Stops the worker once every tree it was asked to walk is done with: its exit then overlaps the build's end. */
  const settle = (walk: TreeWalk) => {
    Atomics.store(walk.claims, dropped, 1);
    walk.settled = true;
    walk.tasks.clear();
    if (byId.every((w) => !w.requested || w.settled)) retire();
  };
  const retire = () => {
    dead = true;
    void worker?.terminate();
    wake();
  };

  const walkOf = (out: string, tree: string, background: boolean): TreeWalk => {
    const key = below(out, tree);
    let walk = trees.get(key);
    if (walk === undefined) {
      const shared = new SharedArrayBuffer(8);
      walk = {
        id: byId.length,
        requested: false,
        settled: false,
        shared,
        claims: new Int32Array(shared),
        tasks: new Map(),
        workerDone: false,
      };
      trees.set(key, walk);
      byId.push(walk);
      const request: WalkRequest = { id: walk.id, out, tree, claims: shared };
      if (background && !dead && worker !== undefined) {
        worker.postMessage(request);
        walk.requested = true;
      }
    }
    return walk;
  };

  /** Resolves with `get()` once it is defined, looked at after each message from the worker or its loss. */
  const until = async <T>(get: () => T | undefined, signal: AbortSignal | undefined, what: string): Promise<T> => {
    throwIfCancelled(signal, what);
    const now = get();
    if (now !== undefined) return now;
    worker?.ref();
    try {
      return await new Promise<T>((resolve, reject) => {
        const look = () => {
          const value = signal?.aborted === true ? undefined : get();
          if (value === undefined && signal?.aborted !== true) return;
          waiters.delete(look);
          signal?.removeEventListener('abort', look);
          if (value === undefined) reject(new LkvolError('LKVOL_CANCELLED', `${what}: cancelled`));
          else resolve(value);
        };
        waiters.add(look);
        signal?.addEventListener('abort', look);
      });
    } finally {
      if (waiters.size === 0) worker?.unref();
    }
  };

  const walkTree = async (
    out: string,
    tree: string,
    walk: TreeWalk,
    signal: AbortSignal | undefined,
  ): Promise<TreeFingerprint | undefined> => {
    const root = below(out, tree);
    const what = `check ${root}`;
    const pace = createPace(entriesPerTurn, () => yieldTurn(signal, what));
    const { claims } = walk;
    try {
      // Planned here whether or not the worker has planned too: waiting for its plan would leave this thread idle.
      const plan = await planWalk(out, tree, pace);
      if (plan === undefined) return undefined;
      const lines: Array<string | undefined> = new Array<string | undefined>(plan.tasks.length);
      for (let i; (i = Atomics.add(claims, nextTask, 1)) < plan.tasks.length;) {
        lines[i] = await walkTask(root, plan.tasks[i]!, pace);
        if (lines[i] === undefined) return undefined;
      }
      let fromWorker = 0;
      for (let i = 0; i < plan.tasks.length; i++) {
        if (lines[i] !== undefined) continue;
        // Once the worker is done with the tree or gone, what it did not report is this thread's to walk.
        const theirs = await until(
          () => walk.tasks.get(i) ?? (dead || walk.workerDone ? redo : undefined),
          signal,
          what,
        );
        // Lines of another plan's task, or of a root since replaced, are not this tree's.
        const usable =
          theirs !== redo &&
          theirs.rel === plan.tasks[i] &&
          theirs.root.dev === plan.root.dev &&
          theirs.root.ino === plan.root.ino;
        lines[i] = usable ? (theirs.lines ?? undefined) : await walkTask(root, plan.tasks[i]!, pace);
        if (lines[i] === undefined) return undefined;
        if (usable) fromWorker++;
      }
      const hash = createHash('sha256');
      for (const segment of plan.segments) hash.update(typeof segment === 'string' ? segment : lines[segment]!);
      return { fingerprint: `sha256:${hash.digest('hex')}`, root: plan.root, tasks: plan.tasks.length, fromWorker };
    } finally {
      settle(walk);
    }
  };

  return {
    prefetch(out, tree) {
      walkOf(out, tree, true);
    },
    fingerprint(out, tree, signal) {
      const walk = walkOf(out, tree, false);
      walk.result ??= walkTree(out, tree, walk, signal);
      return walk.result;
    },
    drop(out, tree) {
      const walk = trees.get(below(out, tree));
      if (walk !== undefined) settle(walk);
    },
    close: retire,
  };
}
