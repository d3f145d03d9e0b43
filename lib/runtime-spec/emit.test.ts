// emitRuntimeSpec: the shape around the parts (version, root, process defaults, omitempty, resources).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerFields } from '../config/schema.js';
import { emitRuntimeSpec } from './emit.js';
import { resolveContainerConfig } from './precedence.js';
import type { ImageConfigInput } from './types.js';

const emit = (yaml: ContainerFields, imageConfig: ImageConfigInput = {}, ociVersion?: string) =>
  emitRuntimeSpec({
    imageConfig,
    merged: resolveContainerConfig({ yaml: { name: 'c', image: 'i', ...yaml }, label: undefined }),
    idMap: new Map(),
    bundlePath: '/containers/services/c',
    ociVersion,
  });

test('a bare image: defaults everywhere, empty fields left out', () => {
  const { spec } = emit({});
  assert.equal(spec.ociVersion, '1.2.1');
  assert.deepEqual(spec.root, { path: 'rootfs' });
  assert.deepEqual(spec.process, { user: { uid: 0, gid: 0 }, cwd: '/', capabilities: {} });
  assert.deepEqual(spec.linux, { resources: {}, namespaces: [{ type: 'pid' }, { type: 'mount' }] });
  assert.equal('hostname' in spec, false);
  assert.equal('annotations' in spec, false);
  assert.equal('terminal' in spec.process, false, 'terminal is false, which Go omits');
});

test('ociVersion can be set', () => assert.equal(emit({}, {}, '1.0.2').spec.ociVersion, '1.0.2'));

test('command replaces Entrypoint and Cmd; env replaces the image env', () => {
  const { spec } = emit({ command: ['/x'], env: ['A=1'] }, { Entrypoint: ['/ep'], Cmd: ['c'], Env: ['PATH=/bin'] });
  assert.deepEqual(spec.process.args, ['/x']);
  assert.deepEqual(spec.process.env, ['A=1']);
});

test('readonly sets root.readonly and binds rootfs onto itself in runtime.json', () => {
  const { spec, runtime } = emit({ readonly: true });
  assert.deepEqual(spec.root, { path: 'rootfs', readonly: true });
  assert.deepEqual(runtime.mounts, [
    { destination: '/containers/services/c/rootfs', source: '/containers/services/c/rootfs', options: ['bind'] },
  ]);
});

test('device rules are appended after given resources.devices', () => {
  const { spec } = emit({
    resources: { devices: [{ allow: false, access: 'rwm' }], cpu: { cpus: '', shares: 0 } },
    devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, mode: '0666' }],
  });
  assert.deepEqual(spec.linux.resources, {
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
    ],
    cpu: { shares: 0 },
  });
});

test('empty sysctl, annotations and paths are left out; hostname and oomScoreAdj 0 are kept', () => {
  const { spec } = emit({
    sysctl: {},
    annotations: {},
    maskedPaths: [],
    hostname: 'h',
    oomScoreAdj: 0,
    rootfsPropagation: '',
  });
  assert.equal('sysctl' in spec.linux, false);
  assert.equal('annotations' in spec, false);
  assert.equal('maskedPaths' in spec.linux, false);
  assert.equal('rootfsPropagation' in spec.linux, false);
  assert.equal(spec.hostname, 'h');
  assert.equal(spec.process.oomScoreAdj, 0);
});

test('emit does not change the merged entry it is given', () => {
  const merged = resolveContainerConfig({
    yaml: { name: 'c', image: 'i', resources: { pids: { limit: 1 } } },
    label: undefined,
  });
  const before = structuredClone(merged);
  emitRuntimeSpec({ imageConfig: { Cmd: ['x'] }, merged, idMap: new Map(), bundlePath: '/b', ociVersion: undefined });
  assert.deepEqual(merged, before);
});
