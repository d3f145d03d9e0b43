// Tests of the cache of known real directories: forgetting a tree forgets all of it, and only it, quickly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DirCache } from './dir-cache.js';

test('forgetting a directory forgets everything below it, and nothing beside it', () => {
  const c = new DirCache();
  for (const k of ['a', 'a/b', 'a/b/c', 'a/bc', 'ab', 'x/y']) c.add(k);
  c.forget('a/b', true);
  assert.deepEqual(
    ['', 'a', 'a/b', 'a/b/c', 'a/bc', 'ab', 'x/y'].map((k) => c.has(k)),
    [true, true, false, false, true, true, true],
  );
  c.forget('ab', false);
  assert.equal(c.has('ab'), false);
  c.forget('', true);
  assert.deepEqual(
    ['', 'a', 'a/bc', 'x/y'].map((k) => c.has(k)),
    [true, false, false, false],
  );
});

test('adding a directory adds its parents, and forgetting a parent forgets it', () => {
  const c = new DirCache();
  c.add('p/q/r');
  assert.deepEqual(
    ['p', 'p/q', 'p/q/r'].map((k) => c.has(k)),
    [true, true, true],
  );
  c.forget('p', true);
  assert.deepEqual(
    ['p', 'p/q', 'p/q/r'].map((k) => c.has(k)),
    [false, false, false],
  );
});

test('forgetting many directories one by one takes time in proportion to them', () => {
  const c = new DirCache();
  for (let i = 0; i < 100_000; i++) c.add(`d${i}`);
  const started = performance.now();
  for (let i = 0; i < 100_000; i++) c.forget(`d${i}`, true);
  // NB: a bound with a wide margin, not a benchmark: the quadratic version took minutes here.
  assert.ok(performance.now() - started < 5_000);
  assert.equal(c.has('d99999'), false);
});
