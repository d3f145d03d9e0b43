// Tests of LinuxKit's id map.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildIdMap } from './ids.js';
import { parseConfig } from './load.js';

test('ids go to onboot, then onshutdown, then services, from 100', () => {
  const config = parseConfig([
    {
      file: 'a.yml',
      text: 'services: [{name: web, image: nginx}]\nonshutdown: [{name: bye, image: alpine}]\nonboot: [{name: one, image: alpine}, {name: two, image: alpine}]\n',
    },
  ]);
  const ids = buildIdMap(config);
  assert.deepEqual(Object.fromEntries(ids), { one: 100, two: 101, bye: 102, web: 103, '': 0, root: 0 });
});

test('a later container with the same name takes the later id, and root stays 0', () => {
  const ids = buildIdMap({ onboot: [{ name: 'x' }, { name: 'root' }], onshutdown: [], services: [{ name: 'x' }] });
  // NB: LinuxKit overwrites the map entry, so "x" ends up with the services id.
  assert.equal(ids.get('x'), 102);
  assert.equal(ids.get('root'), 0);
});
