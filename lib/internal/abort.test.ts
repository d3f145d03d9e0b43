// taskSignal: aborts with its parent, and keeps the listeners of concurrent tasks off the parent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { taskSignal } from './abort.js';

test('a task signal aborts with its parent, with the same reason', () => {
  const parent = new AbortController();
  const child = taskSignal(parent.signal)!;
  assert.equal(child.aborted, false);
  const reason = new Error('stop');
  parent.abort(reason);
  assert.equal(child.aborted, true);
  assert.equal(child.reason, reason);
});

test('a task signal of an aborted parent starts aborted', () => {
  const parent = new AbortController();
  parent.abort();
  assert.equal(taskSignal(parent.signal)!.aborted, true);
});

test('listeners of many concurrent tasks land on their own signals, none on the parent', () => {
  // Node warns at 11 abort listeners on one signal: 40 tasks sharing the parent would trip it.
  const parent = AbortSignal.any([new AbortController().signal]);
  const children = Array.from({ length: 40 }, () => taskSignal(parent)!);
  for (const c of children) c.addEventListener('abort', () => {});
  assert.equal(getEventListeners(parent, 'abort').length, 0);
  for (const c of children) assert.equal(getEventListeners(c, 'abort').length, 1);
});

test('no parent, no task signal', () => {
  assert.equal(taskSignal(undefined), undefined);
});
