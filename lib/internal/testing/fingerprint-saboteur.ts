// A stand-in for fingerprint-worker.js that takes every task of each tree it is asked to walk and misbehaves as its
// `workerData` says, for the tests of fingerprints.ts: `other-dir` posts each under another directory's name,
// `other-root` plans the tree and posts each under its own name with other lines, but naming another root, `fail`
// reports each as failed, `skip` reports none and says it is done, `die` exits without a word, `hang` stays, silent.
// Once it has taken them, it writes `flag`.
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { WalkReport, WalkRequest } from '../../build/fingerprints.js';
import { nextTask, planWalk } from '../../build/fingerprint-walk.js';

export type Sabotage = 'other-dir' | 'other-root' | 'fail' | 'skip' | 'die' | 'hang';

const { mode, flag } = workerData as { mode: Sabotage; flag: string };
/** More tasks than any test tree gives. */
const anyTasks = 10_000;

parentPort!.on('message', (r: WalkRequest) => {
  void sabotage(r);
});

async function sabotage(r: WalkRequest): Promise<void> {
  const claims = new Int32Array(r.claims);
  const plan = mode === 'other-root' ? await planWalk(r.out, r.tree) : undefined;
  const post = (report: WalkReport) => parentPort!.postMessage(report);
  for (let i; (i = Atomics.add(claims, nextTask, 1)) < anyTasks;) {
    if (mode === 'other-dir')
      post({ type: 'task', id: r.id, task: i, rel: `elsewhere${i}`, root: { dev: 0, ino: 0 }, lines: 'x\0file\n' });
    if (mode === 'other-root' && plan !== undefined && i < plan.tasks.length) {
      const root = { dev: plan.root.dev, ino: plan.root.ino + 1 };
      post({ type: 'task', id: r.id, task: i, rel: plan.tasks[i]!, root, lines: 'x\0file\n' });
    }
    if (mode === 'fail') post({ type: 'failed', id: r.id, task: i });
  }
  writeFileSync(flag, '');
  if (mode === 'skip') post({ type: 'done', id: r.id });
  if (mode === 'die') process.exit(0);
}
