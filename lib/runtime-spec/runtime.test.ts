// runtime.json: every key always present, rootfs mounts first, YAML over label per key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRuntime, rootfsMounts } from './runtime.js';

const emptyBindNS = { cgroup: '', ipc: '', mnt: '', net: '', pid: '', user: '', uts: '' };

test('no runtime block: every key, empty, bindNS with seven empty strings', () => {
  const got = buildRuntime({ runtime: undefined, bundlePath: '/containers/services/s', readonly: true });
  assert.deepEqual(got, {
    cgroups: [],
    mounts: [
      { destination: '/containers/services/s/rootfs', source: '/containers/services/s/rootfs', options: ['bind'] },
    ],
    mkdir: [],
    interfaces: [],
    bindNS: emptyBindNS,
    namespace: '',
  });
});

test('a writable container: tmpfs on tmp, remount private, overlay of lower', () => {
  assert.deepEqual(rootfsMounts({ bundlePath: 'containers/onboot/000-a', readonly: false }), [
    { destination: '/containers/onboot/000-a/tmp', type: 'tmpfs', source: 'tmpfs' },
    { destination: '/containers/onboot/000-a/tmp', options: ['remount', 'private'] },
    {
      destination: '/containers/onboot/000-a/rootfs',
      type: 'overlay',
      source: 'overlay',
      options: [
        'lowerdir=/containers/onboot/000-a/lower',
        'upperdir=/containers/onboot/000-a/tmp/upper',
        'workdir=/containers/onboot/000-a/tmp/work',
      ],
    },
  ]);
});

test("an image held by another bundle (LinuxKit's dupMap): its directory is the lower dir, or the read-only bind's source", () => {
  const writable = rootfsMounts({
    bundlePath: 'containers/services/t',
    readonly: false,
    imageRoot: 'containers/onshutdown/000-z/rootfs',
  });
  assert.deepEqual(writable[2]?.options, [
    'lowerdir=/containers/onshutdown/000-z/rootfs',
    'upperdir=/containers/services/t/tmp/upper',
    'workdir=/containers/services/t/tmp/work',
  ]);
  assert.deepEqual(
    rootfsMounts({ bundlePath: '/containers/services/s', readonly: true, imageRoot: '/containers/onboot/000-a/lower' }),
    [{ destination: '/containers/services/s/rootfs', source: '/containers/onboot/000-a/lower', options: ['bind'] }],
  );
});

test('the bundle path may be given with or without a leading slash', () => {
  assert.deepEqual(
    rootfsMounts({ bundlePath: '/a/b', readonly: true }),
    rootfsMounts({ bundlePath: 'a/b', readonly: true }),
  );
});

test('given values are kept; user mounts follow the rootfs mounts unchanged', () => {
  const got = buildRuntime({
    runtime: {
      cgroups: ['k8s'],
      mkdir: ['/var/lib/k'],
      mounts: [{ type: 'bind', source: 'vola', destination: '/x', options: [] }],
      interfaces: [{ name: 'eth0' }, { add: 'veth', peer: 'p', createInRoot: true }],
      bindNS: { net: '/run/netns/a' },
      namespace: 'services.linuxkit',
    },
    bundlePath: '/b',
    readonly: true,
  });
  assert.deepEqual(got.mounts.slice(1), [{ destination: '/x', type: 'bind', source: 'vola' }]);
  assert.deepEqual(got.interfaces, [
    { name: 'eth0', createInRoot: false },
    { add: 'veth', peer: 'p', createInRoot: true },
  ]);
  assert.deepEqual(got.bindNS, { ...emptyBindNS, net: '/run/netns/a' });
  assert.equal(got.namespace, 'services.linuxkit');
  assert.deepEqual(got.cgroups, ['k8s']);
  assert.deepEqual(got.mkdir, ['/var/lib/k']);
});
