// Mounts: defaults, readonly, tmpfs, binds (options, volumes, rbind once), `mounts` inference, merge and sort.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerFields } from '../config/schema.js';
import { isLkvolError } from '../errors.js';
import { bindOptions, buildMounts, defaultMounts } from './mounts.js';
import { resolveContainerConfig } from './precedence.js';
import type { SpecMount } from './types.js';

const merged = (yaml: ContainerFields, label?: ContainerFields) =>
  resolveContainerConfig({ yaml: { name: 'c', image: 'i', ...yaml }, label });
const mounts = (yaml: ContainerFields, label?: ContainerFields) => buildMounts(merged(yaml, label));
const at = (list: SpecMount[], destination: string) => list.find((m) => m.destination === destination);
const defaultDestinations = ['/dev', '/dev/pts', '/proc', '/sys', '/sys/fs/cgroup'];

describe('default mounts', () => {
  test('LinuxKit defaults, sorted by destination', () => {
    const got = mounts({});
    assert.deepEqual(
      got.map((m) => m.destination),
      defaultDestinations,
    );
    assert.deepEqual(at(got, '/proc'), {
      destination: '/proc',
      type: 'proc',
      source: 'proc',
      options: ['nosuid', 'nodev', 'noexec', 'relatime'],
    });
    assert.deepEqual(at(got, '/dev'), {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    });
    assert.deepEqual(at(got, '/dev/pts'), {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'],
    });
    assert.deepEqual(at(got, '/sys'), {
      destination: '/sys',
      type: 'sysfs',
      source: 'sysfs',
      options: ['nosuid', 'noexec', 'nodev'],
    });
    assert.deepEqual(at(got, '/sys/fs/cgroup'), {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    });
  });
  test('readonly adds ro to /dev and /sys only', () => {
    const ro = defaultMounts({ readonly: true });
    const rw = defaultMounts({ readonly: false });
    for (const [i, m] of ro.entries()) {
      const want = ['/dev', '/sys'].includes(m.destination) ? [...(rw[i]?.options ?? []), 'ro'] : rw[i]?.options;
      assert.deepEqual(m.options, want, m.destination);
    }
    assert.deepEqual(at(mounts({ readonly: true }), '/sys')?.options, ['nosuid', 'noexec', 'nodev', 'ro']);
  });
});

describe('tmpfs', () => {
  test('destination only: no options key', () =>
    assert.deepEqual(at(mounts({ tmpfs: ['/run'] }), '/run'), { destination: '/run', type: 'tmpfs', source: 'tmpfs' }));
  test('with options', () =>
    assert.deepEqual(at(mounts({ tmpfs: ['/tmp:size=1m,mode=1777'] }), '/tmp')?.options, ['size=1m', 'mode=1777']));
  test('refuses two colons', () => {
    assert.throws(
      () => mounts({ tmpfs: ['/a:b:c'] }),
      (err) => isLkvolError(err, 'LKVOL_CONFIG_INVALID') && /cannot parse tmpfs "\/a:b:c"/.test(err.message),
    );
  });
});

describe('binds', () => {
  const cases = [
    {
      name: 'host bind without options: rw,rbind,rshared',
      bind: '/etc/x:/x',
      want: { destination: '/x', type: 'bind', source: '/etc/x', options: ['rw', 'rbind', 'rshared'] },
    },
    {
      name: 'host bind with options: options plus rbind',
      bind: '/etc/x:/x:ro',
      want: { destination: '/x', type: 'bind', source: '/etc/x', options: ['ro', 'rbind'] },
    },
    // NB: LinuxKit writes rbind twice here (linuxkit#2877); SPEC §2 fix.
    {
      name: 'rshared,rbind keeps a single rbind',
      bind: '/var:/var:rshared,rbind',
      want: { destination: '/var', type: 'bind', source: '/var', options: ['rshared', 'rbind'] },
    },
    {
      name: 'volume bind: merged dir, rw,rbind,rshared',
      bind: 'vola:/vola',
      want: {
        destination: '/vola',
        type: 'bind',
        source: '/containers/volumes/vola/merged',
        options: ['rw', 'rbind', 'rshared'],
      },
    },
    {
      name: 'ro volume bind',
      bind: 'vola:/vola:ro',
      want: { destination: '/vola', type: 'bind', source: '/containers/volumes/vola/merged', options: ['ro', 'rbind'] },
    },
    {
      name: 'ro,rshared volume bind keeps rshared',
      bind: 'vola:/v:rshared,ro',
      want: {
        destination: '/v',
        type: 'bind',
        source: '/containers/volumes/vola/merged',
        options: ['rshared', 'ro', 'rbind'],
      },
    },
    {
      name: 'an empty options field counts as none',
      bind: '/a:/a:',
      want: { destination: '/a', type: 'bind', source: '/a', options: ['rw', 'rbind', 'rshared'] },
    },
  ];
  for (const c of cases)
    test(c.name, () => assert.deepEqual(at(mounts({ binds: [c.bind] }), c.want.destination), c.want));

  test('a bind replaces a default mount with the same destination', () => {
    assert.deepEqual(at(mounts({ binds: ['/dev:/dev'] }), '/dev'), {
      destination: '/dev',
      type: 'bind',
      source: '/dev',
      options: ['rw', 'rbind', 'rshared'],
    });
  });
  test('binds from label and binds.add all become mounts', () => {
    const got = mounts({ 'binds.add': ['vola:/vola'] }, { binds: ['/dev:/dev', '/var:/var:rshared,rbind'] });
    assert.deepEqual(
      got.map((m) => m.destination),
      ['/dev', '/dev/pts', '/proc', '/sys', '/sys/fs/cgroup', '/var', '/vola'],
    );
  });
  const bad = [
    { name: 'no colon', bind: '/a', want: /missing ':'/ },
    { name: 'too many colons', bind: '/a:/b:ro:x', want: /too many ':'/ },
    { name: 'relative destination of a volume', bind: 'vola:b', want: /destination "b" must be an absolute path/ },
    { name: 'empty destination', bind: '/a:', want: /destination must not be empty/ },
    { name: 'destination with ..', bind: 'vola:/x/../etc', want: /must not contain "\.\."/ },
  ];
  for (const c of bad) {
    test(`refuses ${c.name}`, () =>
      assert.throws(
        () => mounts({ binds: [c.bind] }),
        (err) => isLkvolError(err, 'LKVOL_CONFIG_INVALID') && c.want.test(err.message),
      ));
  }
  test('bindOptions adds rbind once and drops empty options', () => {
    assert.deepEqual(bindOptions([]), ['rw', 'rbind', 'rshared']);
    assert.deepEqual(bindOptions(['rbind', 'ro']), ['rbind', 'ro']);
    assert.deepEqual(bindOptions(['ro', '']), ['ro', 'rbind']);
  });
});

describe('mounts entries', () => {
  const cases = [
    {
      name: 'type inferred from a well-known source, destination from the type',
      m: { source: 'mqueue' },
      want: { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' },
    },
    {
      name: 'source defaults to the type',
      m: { type: 'proc' },
      want: { destination: '/proc', type: 'proc', source: 'proc' },
    },
    {
      name: 'destination /dev implies tmpfs',
      m: { destination: '/dev', options: ['size=1m'] },
      want: { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
    },
    {
      name: 'cgroup defaults to /sys/fs/cgroup',
      m: { type: 'cgroup' },
      want: { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' },
    },
    {
      name: 'host bind options pass through as written (LinuxKit)',
      m: { type: 'bind', source: '/etc', destination: '/e', options: ['ro'] },
      want: { destination: '/e', type: 'bind', source: '/etc', options: ['ro'] },
    },
    // NB: LinuxKit leaves source "vola" here (reference §3.4.1); SPEC §1.2 fix rewrites it like a bind.
    {
      name: 'volume bind is rewritten, rw,rbind,rshared',
      m: { type: 'bind', source: 'vola', destination: '/vola' },
      want: {
        destination: '/vola',
        type: 'bind',
        source: '/containers/volumes/vola/merged',
        options: ['rw', 'rbind', 'rshared'],
      },
    },
    {
      name: 'ro volume bind gets rbind once',
      m: { type: 'bind', source: 'vola', destination: '/vola', options: ['ro', 'rbind'] },
      want: { destination: '/vola', type: 'bind', source: '/containers/volumes/vola/merged', options: ['ro', 'rbind'] },
    },
    {
      name: 'a non-bind type is never a volume',
      m: { type: 'tmpfs', source: 'vola', destination: '/t' },
      want: { destination: '/t', type: 'tmpfs', source: 'vola' },
    },
  ];
  for (const c of cases)
    test(c.name, () => assert.deepEqual(at(mounts({ mounts: [c.m] }), c.want.destination), c.want));

  test('mounts are merged last: they replace binds and tmpfs at the same destination', () => {
    const got = mounts({
      tmpfs: ['/x'],
      binds: ['/a:/x'],
      mounts: [{ type: 'bind', source: '/b', destination: '/x' }],
    });
    assert.deepEqual(at(got, '/x'), { destination: '/x', type: 'bind', source: '/b' });
  });
  test('binds replace tmpfs at the same destination', () => {
    assert.equal(at(mounts({ tmpfs: ['/x'], binds: ['/a:/x'] }), '/x')?.type, 'bind');
  });
  test('refuses a missing type', () => {
    assert.throws(
      () => mounts({ mounts: [{ source: 'foo', destination: '/f' }] }),
      (err) =>
        isLkvolError(err, 'LKVOL_CONFIG_INVALID') && /mount for destination "\/f" is missing type/.test(err.message),
    );
  });
  test('refuses a missing destination', () => {
    assert.throws(
      () => mounts({ mounts: [{ type: 'bind', source: '/a' }] }),
      (err) =>
        isLkvolError(err, 'LKVOL_CONFIG_INVALID') && /mount type "bind" is missing destination/.test(err.message),
    );
  });
});

describe('destinations LinuxKit keeps as written (test/cases/000_build/001_tarheaders, the test-containerd label)', () => {
  test('a relative destination stays relative and sorts by bytes, after the absolute ones', () => {
    const overlay = {
      type: 'overlay',
      source: 'overlay',
      destination: 'writeable-host-etc',
      options: ['rw', 'lowerdir=/etc'],
    };
    const got = mounts({ mounts: [overlay], binds: ['/etc:host-etc'], tmpfs: ['scratch'] });
    assert.deepEqual(
      got.map((m) => m.destination),
      [...defaultDestinations, 'host-etc', 'scratch', 'writeable-host-etc'],
    );
    assert.deepEqual(at(got, 'writeable-host-etc'), overlay);
    assert.deepEqual(at(got, 'host-etc'), {
      destination: 'host-etc',
      type: 'bind',
      source: '/etc',
      options: ['rw', 'rbind', 'rshared'],
    });
  });
  test("an empty destination takes the type's place, replacing the default mount there", () => {
    const got = mounts({ mounts: [{ type: 'cgroup', destination: '', options: ['rw'] }] });
    assert.deepEqual(at(got, '/sys/fs/cgroup'), {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['rw'],
    });
    assert.deepEqual(
      got.map((m) => m.destination),
      defaultDestinations,
    );
  });
  test('a volume mount still needs an absolute destination, and no mount may use ..', () => {
    assert.throws(
      () => mounts({ mounts: [{ type: 'bind', source: 'vola', destination: 'v' }] }),
      (err) =>
        isLkvolError(err, 'LKVOL_CONFIG_INVALID') &&
        /of volume "vola": destination "v" must be an absolute path/.test(err.message),
    );
    assert.throws(
      () => mounts({ mounts: [{ type: 'tmpfs', destination: 'a/../b' }] }),
      (err) =>
        isLkvolError(err, 'LKVOL_CONFIG_INVALID') &&
        /on "a\/..\/b": destination "a\/..\/b" must not contain "\.\."/.test(err.message),
    );
  });
});

test('the final list is sorted by destination bytes', () => {
  const got = mounts({ binds: ['/z:/z', '/a:/a', '/b:/B', '/d:/dev/x'] });
  assert.deepEqual(
    got.map((m) => m.destination),
    ['/B', '/a', '/dev', '/dev/pts', '/dev/x', '/proc', '/sys', '/sys/fs/cgroup', '/z'],
  );
});
