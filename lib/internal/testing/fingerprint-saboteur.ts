// A stand-in for fingerprint-worker.js that misbehaves as its `workerData` says, for the tests of fingerprints.ts:
// `lie` posts every task it takes under another directory's name, `fail` reports each as failed, `die` takes them
// all and exits without a word, `hang` takes them all and stays, silent. Once it has taken them, it writes `flag`.
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { WalkReport, WalkRequest } from '../../build/fingerprints.js';
import { nextTask } from '../../build/fingerprint-walk.js';

const { mode, flag } = workerData as { mode: 'lie' | 'fail' | 'die' | 'hang'; flag: string };
/** More tasks than any test tree gives. */
const anyTasks = 10_000;

parentPort!.on('message', (r: WalkRequest) => {
  const claims = new Int32Array(r.claims);
  for (let i; (i = Atomics.add(claims, nextTask, 1)) < anyTasks;) {
    if (mode === 'die' || mode === 'hang') continue;
    const report: WalkReport =
      mode === 'lie'
        ? { type: 'task', id: r.id, task: i, rel: `elsewhere${i}`, lines: `elsewhere${i}\0file\n` }
        : { type: 'failed', id: r.id, task: i };
    parentPort!.postMessage(report);
  }
  writeFileSync(flag, '');
  if (mode === 'die') process.exit(0);
});
