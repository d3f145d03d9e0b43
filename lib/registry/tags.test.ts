// Which tags are named when a tag is missing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nearestTags } from './tags.js';

test('nearestTags: shared prefix first, then edit distance, at most five', () => {
  const tags = ['latest', '3.19', '3.20', '3.21', '3.21.2', '3.2', 'edge', '2.7', '3.22', '3.23'];
  assert.deepEqual(nearestTags('3.21.3', tags), ['3.21.2', '3.21', '3.23', '3.2', '3.20']);
  assert.deepEqual(nearestTags('lates', tags, 1), ['latest']);
  assert.deepEqual(nearestTags('x', []), []);
});
