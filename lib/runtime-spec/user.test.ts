// User ids: numbers pass, root and "" are 0, names go through the id map, unknown names fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerFields } from '../config/schema.js';
import { isLkvolError } from '../errors.js';
import { buildUser } from './user.js';
import { resolveContainerConfig } from './precedence.js';

const idMap = new Map([
  ['dhcpcd', 100],
  ['sshd', 101],
]);
const user = (yaml: ContainerFields, label?: ContainerFields) =>
  buildUser(resolveContainerConfig({ yaml: { name: 'c', image: 'i', ...yaml }, label }), idMap);

const cases: { name: string; yaml: ContainerFields; label?: ContainerFields; want: unknown }[] = [
  { name: 'default 0:0, no additional gids', yaml: {}, want: { uid: 0, gid: 0 } },
  { name: 'numbers pass through', yaml: { uid: 1000, gid: 50 }, want: { uid: 1000, gid: 50 } },
  { name: 'root and "" are 0', yaml: { uid: 'root', gid: '' }, want: { uid: 0, gid: 0 } },
  {
    name: 'a name resolves through the id map (LinuxKit TestIdMap)',
    yaml: { uid: 'dhcpcd', gid: 'sshd' },
    want: { uid: 100, gid: 101 },
  },
  {
    name: 'additionalGids mix names and numbers',
    yaml: { additionalGids: ['sshd', 7, 'root'] },
    want: { uid: 0, gid: 0, additionalGids: [101, 7, 0] },
  },
  { name: 'additionalGids [] leaves the key out', yaml: { additionalGids: [] }, want: { uid: 0, gid: 0 } },
  // NB: LinuxKit refuses a quoted number; lkvol accepts it after the map lookup.
  { name: 'a decimal string is a number', yaml: { uid: '1000' }, want: { uid: 1000, gid: 0 } },
  {
    name: 'label ids apply when YAML leaves them out',
    yaml: { gid: 3 },
    label: { uid: 'dhcpcd', gid: 9 },
    want: { uid: 100, gid: 3 },
  },
  { name: 'the image User is ignored', yaml: {}, want: { uid: 0, gid: 0 } },
];
for (const c of cases) test(c.name, () => assert.deepEqual(user(c.yaml, c.label), c.want));

const bad = [
  { name: 'unknown name', yaml: { uid: 'nobody' }, want: /uid: cannot find id "nobody"/ },
  {
    name: 'unknown additional gid',
    yaml: { additionalGids: [1, 'ghost'] },
    want: /additionalGids\[1\]: cannot find id "ghost"/,
  },
  { name: 'too large', yaml: { uid: 4294967296 }, want: /outside 0\.\.4294967295/ },
];
for (const c of bad) {
  test(`refuses ${c.name}`, () => {
    assert.throws(
      () => user(c.yaml),
      (err) => isLkvolError(err, 'LKVOL_CONFIG_INVALID') && c.want.test(err.message),
    );
  });
}
