// Table tests of path rendering.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPath } from './positions.js';

const cases: { name: string; path: (string | number)[]; want: string }[] = [
  { name: 'the root is empty', path: [], want: '' },
  { name: 'keys join with dots and indexes use brackets', path: ['volumes', 1, 'image'], want: 'volumes[1].image' },
  {
    name: 'a key containing a dot stays readable',
    path: ['services', 0, 'binds.add', 2],
    want: 'services[0].binds.add[2]',
  },
  {
    name: 'a key with odd characters is quoted',
    path: ['services', 0, 'annotations', 'a b'],
    want: 'services[0].annotations["a b"]',
  },
];

for (const c of cases) {
  test(c.name, () => assert.equal(formatPath(c.path), c.want));
}
