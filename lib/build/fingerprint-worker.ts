// Worker thread: walks the trees fingerprints.ts asks for, each planned on its own and its tasks taken through the
// claims it shares with the main thread, and posts each task's lines.
import { parentPort } from 'node:worker_threads';
import { entriesPerTurn } from '../internal/async.js';
import { below } from '../internal/path.js';
import { createPace, dropped, nextTask, planWalk, walkTask } from './fingerprint-walk.js';
import type { WalkReport, WalkRequest } from './fingerprints.js';

const port = parentPort;
if (port === null) throw new Error('fingerprint-worker.js must run in a worker thread');

/** Thrown from a walk of a tree the main thread no longer wants. */
class Dropped extends Error {}

const queue: WalkRequest[] = [];
let walking = false;

port.on('message', (request: WalkRequest) => {
  queue.push(request);
  if (!walking) void walkQueue();
});

async function walkQueue(): Promise<void> {
  walking = true;
  for (let request; (request = queue.shift()) !== undefined;) {
    await walkTree(request);
    // Every task it took is reported; a claim past its own plan (the main thread's may be longer) is not taken.
    port!.postMessage({ type: 'done', id: request.id } satisfies WalkReport);
  }
  walking = false;
}

/** Plans the tree and takes tasks until none is left or the main thread drops it. */
async function walkTree(r: WalkRequest): Promise<void> {
  const claims = new Int32Array(r.claims);
  const post = (report: WalkReport) => port!.postMessage(report);
  const pace = createPace(entriesPerTurn, () => {
    if (Atomics.load(claims, dropped) === 1) throw new Dropped();
  });
  if (Atomics.load(claims, dropped) === 1) return;
  // An fs error or a drop: the main thread plans on its own, and meets the error itself.
  const plan = await planWalk(r.out, r.tree, pace).catch(() => undefined);
  if (plan === undefined) return;
  const root = below(r.out, r.tree);
  for (let i; (i = Atomics.add(claims, nextTask, 1)) < plan.tasks.length;) {
    const rel = plan.tasks[i]!;
    try {
      const lines = (await walkTask(root, rel, pace)) ?? null;
      post({ type: 'task', id: r.id, task: i, rel, root: plan.root, lines });
    } catch {
      post({ type: 'failed', id: r.id, task: i });
    }
  }
}
