// Devices: octal mode, allow rules with rwm, path all, bad modes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerFields } from '../config/schema.js';
import { isLkvolError } from '../errors.js';
import { buildDevices } from './devices.js';
import { resolveContainerConfig } from './precedence.js';

type Devices = NonNullable<ContainerFields['devices']>;
const devices = (list: Devices) =>
  buildDevices(resolveContainerConfig({ yaml: { name: 'c', image: 'i', devices: list }, label: undefined }));

test('a device adds an entry with its mode parsed as octal and an rwm allow rule', () => {
  assert.deepEqual(devices([{ path: '/dev/kvm', type: 'c', major: 10, minor: 232, mode: '0660' }]), {
    devices: [{ path: '/dev/kvm', type: 'c', major: 10, minor: 232, fileMode: 0o660 }],
    rules: [{ allow: true, type: 'c', major: 10, minor: 232, access: 'rwm' }],
  });
});

test('path all only adds a rule for the whole type', () => {
  assert.deepEqual(devices([{ path: 'all', type: 'b', major: 0, minor: 0, mode: '' }]), {
    devices: [],
    rules: [{ allow: true, type: 'b', access: 'rwm' }],
  });
});

test('rules keep the order of the devices', () => {
  const got = devices([
    { path: 'all', type: 'c', major: 0, minor: 0, mode: '' },
    { path: '/dev/null', type: 'c', major: 1, minor: 3, mode: '666' },
  ]);
  assert.deepEqual(
    got.rules.map((r) => r.major),
    [undefined, 1],
  );
  assert.equal(got.devices[0]?.fileMode, 0o666);
});

for (const mode of ['', '0x1ff', '0999', 'rw', '17777']) {
  test(`refuses mode ${JSON.stringify(mode)}`, () => {
    assert.throws(
      () => devices([{ path: '/dev/x', type: 'c', major: 1, minor: 1, mode }]),
      (err) =>
        isLkvolError(err, 'LKVOL_CONFIG_INVALID') &&
        /device "\/dev\/x": cannot parse mode .* as an octal value/.test(err.message),
    );
  });
}

test("LinuxKit's optional keys: a class needs only path all (no type: every device), a node defaults major and minor to 0", () => {
  assert.deepEqual(devices([{ path: 'all', type: 'b' }, { path: 'all' }]), {
    devices: [],
    rules: [
      { allow: true, type: 'b', access: 'rwm' },
      { allow: true, access: 'rwm' },
    ],
  });
  assert.deepEqual(devices([{ path: '/dev/null', type: 'c', mode: '0666' }]), {
    devices: [{ path: '/dev/null', type: 'c', major: 0, minor: 0, fileMode: 0o666 }],
    rules: [{ allow: true, type: 'c', major: 0, minor: 0, access: 'rwm' }],
  });
});

for (const c of [
  { name: 'a node without a path', device: { type: 'c', mode: '0600' }, want: /a device has no path/ },
  { name: 'a node without a type', device: { path: '/dev/x', mode: '0600' }, want: /device "\/dev\/x" has no type/ },
  {
    name: 'a node without a mode',
    device: { path: '/dev/x', type: 'c' },
    want: /device "\/dev\/x": cannot parse mode "" as an octal value/,
  },
]) {
  test(`refuses ${c.name} (a label is checked here, the YAML also when loaded)`, () => {
    assert.throws(
      () => devices([c.device]),
      (err) => isLkvolError(err, 'LKVOL_CONFIG_INVALID') && c.want.test(err.message),
    );
  });
}
