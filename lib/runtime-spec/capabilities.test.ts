// Capabilities: none by default, all/none, unknown names, .add merging, bounding/effective/ambient sets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerFields } from '../config/schema.js';
import { isLkvolError } from '../errors.js';
import { buildCapabilities } from './capabilities.js';
import { knownCapabilities } from '../config/index.js';
import { resolveContainerConfig } from './precedence.js';

const caps = (yaml: ContainerFields, label?: ContainerFields) =>
  buildCapabilities(resolveContainerConfig({ yaml: { name: 'c', image: 'i', ...yaml }, label }));

describe('buildCapabilities', () => {
  const cases: { name: string; yaml: ContainerFields; label?: ContainerFields; want: object }[] = [
    { name: 'none by default: every set left out', yaml: {}, want: {} },
    { name: 'none (any case) gives no capabilities', yaml: { capabilities: ['None'] }, want: {} },
    {
      name: 'effective keeps the given order; bounding, permitted, inheritable are sorted',
      yaml: { capabilities: ['CAP_SYS_ADMIN', 'CAP_CHOWN'] },
      want: {
        bounding: ['CAP_CHOWN', 'CAP_SYS_ADMIN'],
        effective: ['CAP_SYS_ADMIN', 'CAP_CHOWN'],
        inheritable: ['CAP_CHOWN', 'CAP_SYS_ADMIN'],
        permitted: ['CAP_CHOWN', 'CAP_SYS_ADMIN'],
      },
    },
    {
      name: 'ambient joins bounding but not effective',
      yaml: { capabilities: ['CAP_KILL'], ambient: ['CAP_NET_RAW'] },
      want: {
        bounding: ['CAP_KILL', 'CAP_NET_RAW'],
        effective: ['CAP_KILL'],
        inheritable: ['CAP_KILL', 'CAP_NET_RAW'],
        permitted: ['CAP_KILL', 'CAP_NET_RAW'],
        ambient: ['CAP_NET_RAW'],
      },
    },
    {
      name: 'label caps plus YAML capabilities.add',
      label: { capabilities: ['CAP_SYS_ADMIN'] },
      yaml: { 'capabilities.add': ['CAP_NET_ADMIN'] },
      want: {
        bounding: ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN'],
        effective: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'],
        inheritable: ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN'],
        permitted: ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN'],
      },
    },
    // NB: LinuxKit would drop the .add and give {} here (and reject [none, X]); SPEC §1.2 keeps .add.
    {
      name: 'capabilities [none] plus .add gives just the added one',
      yaml: { capabilities: ['none'], 'capabilities.add': ['CAP_KILL'] },
      want: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], inheritable: ['CAP_KILL'], permitted: ['CAP_KILL'] },
    },
    {
      name: 'duplicates from label and .add appear once',
      label: { capabilities: ['CAP_KILL'] },
      yaml: { 'capabilities.add': ['CAP_KILL'] },
      want: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], inheritable: ['CAP_KILL'], permitted: ['CAP_KILL'] },
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(caps(c.yaml, c.label), c.want));

  test('all expands to every known capability, effective in kernel order', () => {
    const got = caps({ capabilities: ['ALL'] });
    assert.deepEqual(got.effective, knownCapabilities);
    assert.equal(got.bounding?.length, 41);
    assert.deepEqual(got.bounding, [...knownCapabilities].sort());
  });
  test('ambient all', () => assert.deepEqual(caps({ ambient: ['all'] }).ambient, knownCapabilities));

  const bad = [
    { name: 'unknown name', yaml: { capabilities: ['CAP_FLY'] }, want: /unknown capability "CAP_FLY"/ },
    {
      name: 'lower case is not accepted (exact names, as in LinuxKit)',
      yaml: { capabilities: ['cap_kill'] },
      want: /unknown capability "cap_kill"/,
    },
    { name: 'without the CAP_ prefix', yaml: { capabilities: ['KILL'] }, want: /unknown capability "KILL"/ },
    { name: 'unknown ambient', yaml: { ambient: ['CAP_NOPE'] }, want: /unknown capability "CAP_NOPE"/ },
    {
      name: 'unknown in a label (LinuxKit TestInvalidCap)',
      yaml: {},
      label: { capabilities: ['CAP_NOPE'] },
      want: /container "c" \(i\): unknown capability/,
    },
  ];
  for (const c of bad) {
    test(`refuses ${c.name}`, () => {
      assert.throws(
        () => caps(c.yaml, c.label),
        (err) => isLkvolError(err, 'LKVOL_CONFIG_INVALID') && c.want.test(err.message),
      );
    });
  }
});
