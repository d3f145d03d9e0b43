import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLimiter, createOnce } from './async.js';

test('createLimiter: never more than n tasks run at once, and every task runs', async () => {
  const limit = createLimiter(2);
  let running = 0;
  let most = 0;
  const results = await Promise.all(
    Array.from({ length: 7 }, (_, i) =>
      limit(async () => {
        running++;
        most = Math.max(most, running);
        await sleep(5);
        running--;
        return i;
      }),
    ),
  );
  assert.deepEqual(results, [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(most, 2);
});

test('createLimiter: a rejected task frees its slot and rejects its own caller only', async () => {
  const limit = createLimiter(1);
  const failed = limit(() => Promise.reject(new Error('boom')));
  const next = limit(async () => 'ran');
  await assert.rejects(failed, /boom/);
  assert.equal(await next, 'ran');
});

test('createOnce: concurrent callers of a key share one call; forget makes the next call run again', async () => {
  const once = createOnce<number>();
  let calls = 0;
  const task = async () => ++calls;
  assert.deepEqual(await Promise.all([once('a', task), once('a', task)]), [1, 1]);
  assert.equal(await once('b', task), 2);
  once.forget('a');
  assert.equal(await once('a', task), 3);
  assert.equal((await Promise.all(once.held())).length, 2);
  once.clear();
  assert.deepEqual(once.held(), []);
});

test('createOnce: a rejection is kept for every later caller, unless retryFailures forgets it', async () => {
  const kept = createOnce<string>();
  let calls = 0;
  const failing = () => Promise.reject(new Error(`failure ${++calls}`));
  await assert.rejects(kept('k', failing), /failure 1/);
  await assert.rejects(kept('k', failing), /failure 1/);

  const retried = createOnce<string>({ retryFailures: true });
  await assert.rejects(retried('k', failing), /failure 2/);
  await assert.rejects(retried('k', failing), /failure 3/);
  assert.equal(await retried('k', async () => 'ok'), 'ok');
  assert.equal(await retried('k', failing), 'ok');
});
