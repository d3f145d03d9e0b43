// lkvol's workers keep the command's small young generation after cmd/start.cjs has set V8's flag back to default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from './testing/temp.js';

/** A worker that allocates ~100 MB of short-lived objects, then posts the size its new space grew to. */
const churn = `import { parentPort } from 'node:worker_threads';
import { getHeapSpaceStatistics } from 'node:v8';
let keep = [];
for (let i = 0; i < 3e6; i++) { keep.push({ i }); if (keep.length > 2e5) keep = []; }
parentPort.postMessage(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
`;

/** The new space of a churning worker, started in a process run as cmd/lkvol.sh and cmd/start.cjs run lkvol. */
async function workerNewSpace(dir: string, start: 'startWorker' | 'plain Worker'): Promise<number> {
  const worker = join(dir, 'churn.mjs');
  await writeFile(worker, churn);
  const builtin = new URL('./builtin.js', import.meta.url).href;
  const script = `import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { startWorker } from ${JSON.stringify(builtin)};
setFlagsFromString('--max-semi-space-size=0');
const url = new URL(${JSON.stringify(pathToFileURL(worker).href)});
const w = ${start === 'startWorker' ? 'startWorker(url)' : 'new Worker(url)'};
w.on('message', (size) => { console.log(size); void w.terminate(); });
`;
  const main = join(dir, 'main.mjs');
  await writeFile(main, script);
  const { stdout } = await promisify(execFile)(process.execPath, ['--max-semi-space-size=4', main]);
  return Number(stdout.trim());
}

test("startWorker gives a worker the command's young generation (two 4 MiB semi-spaces), whatever V8's flag says now", async (t) => {
  const dir = await tempDir(t, 'builtin');
  const mib = 1 << 20;
  assert.equal(await workerNewSpace(dir, 'startWorker'), 8 * mib);
  // Without its own limit, a worker started after the reset grows to V8's default: what startWorker exists for.
  assert.ok((await workerNewSpace(dir, 'plain Worker')) > 8 * mib);
});
