// User ids: numbers pass, root and "" are 0, names go through the id map, unknown names fail, image User is ignored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerFields } from '../config/schema.js';
import { isLkvolError } from '../errors.js';
import { emitRuntimeSpec } from './emit.js';
import { resolveContainerConfig } from './precedence.js';
import type { ImageConfigInput } from './types.js';

const idMap = new Map([
  ['dhcpcd', 100],
  ['sshd', 101],
]);
/** An image config as the build passes it (lib/oci's ContainerConfig), User included. */
type ImageConfig = ImageConfigInput & { User?: string };
/** config.json's process.user, through the whole emitter: the image config is one of its inputs. */
const user = (yaml: ContainerFields, label?: ContainerFields, image: ImageConfig = {}) =>
  emitRuntimeSpec({
    imageConfig: image,
    merged: resolveContainerConfig({ yaml: { name: 'c', image: 'i', ...yaml }, label }),
    idMap,
    bundlePath: '/containers/services/c',
  }).spec.process.user;

const cases: {
  name: string;
  yaml: ContainerFields;
  label?: ContainerFields;
  image?: ImageConfig;
  want: unknown;
}[] = [
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
  // NB: LinuxKit never reads the image's User (nor /etc/passwd): without uid/gid in label or YAML it runs as root.
  { name: 'the image User is ignored', yaml: {}, image: { User: '1000:1000' }, want: { uid: 0, gid: 0 } },
  {
    name: 'a uid from YAML, a gid from nowhere: neither half of the image User is taken',
    yaml: { uid: 'sshd' },
    image: { User: '1000:1000' },
    want: { uid: 101, gid: 0 },
  },
];
for (const c of cases) test(c.name, () => assert.deepEqual(user(c.yaml, c.label, c.image), c.want));

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
