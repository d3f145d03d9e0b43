// Each row of the precedence table, tested: YAML > label > image config, and the .add forms.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { containerFieldsSchema, type ContainerFields } from '../config/schema.js';
import { applyImageConfig, precedenceTable, resolveContainerConfig, type PrecedenceRow } from './precedence.js';

const entry = { name: 'c', image: 'example.com/c:1' };
const merge = (yaml: ContainerFields, label?: ContainerFields) =>
  resolveContainerConfig({ yaml: { ...entry, ...yaml }, label });

/** A label value and a different YAML value for every `replace`/`replace-non-empty` row. */
const samples: Record<string, [unknown, unknown]> = {
  command: [['label-cmd'], ['yaml-cmd']],
  env: [['A=label'], ['A=yaml']],
  cwd: ['/label', '/yaml'],
  ambient: [['CAP_KILL'], ['CAP_CHOWN']],
  mounts: [[{ type: 'proc', destination: '/label' }], [{ type: 'proc', destination: '/yaml' }]],
  tmpfs: [['/label'], ['/yaml']],
  devices: [
    [{ path: '/dev/l', type: 'c', major: 1, minor: 1, mode: '0600' }],
    [{ path: '/dev/y', type: 'c', major: 1, minor: 2, mode: '0600' }],
  ],
  net: ['new', 'host'],
  pid: ['host', 'new'],
  ipc: ['new', 'host'],
  uts: ['new', 'host'],
  userns: ['new', 'host'],
  hostname: ['label', 'yaml'],
  readonly: [true, false],
  maskedPaths: [['/label'], ['/yaml']],
  readonlyPaths: [['/label'], ['/yaml']],
  uid: [1, 'yaml'],
  gid: ['label', 2],
  additionalGids: [[1], [2]],
  noNewPrivileges: [true, false],
  oomScoreAdj: [-1, 1],
  rootfsPropagation: ['shared', 'private'],
  cgroupsPath: ['/label', '/yaml'],
  resources: [{ pids: { limit: 1 } }, { pids: { limit: 2 } }],
  sysctl: [{ 'a.b': 'label' }, { 'a.b': 'yaml' }],
  rlimits: [['nofile,1,1'], ['nofile,2,2']],
  uidMappings: [[{ hostID: 1, containerID: 0, size: 1 }], [{ hostID: 2, containerID: 0, size: 1 }]],
  gidMappings: [[{ hostID: 1, containerID: 0, size: 1 }], [{ hostID: 2, containerID: 0, size: 1 }]],
  annotations: [{ a: 'label' }, { a: 'yaml' }],
};

test('the table covers every field a label or entry may set, once', () => {
  const covered = precedenceTable.flatMap((r) => (r.add === undefined ? [r.field] : [r.field, r.add]));
  assert.deepEqual([...covered].sort(), Object.keys(containerFieldsSchema.shape).sort());
  assert.equal(new Set(covered).size, covered.length);
});

describe('replace rows: YAML > label, unset falls through', () => {
  const rows = precedenceTable.filter((r) => r.rule === 'replace' || r.rule === 'replace-non-empty');
  for (const row of rows) {
    test(row.field, () => {
      const pair = samples[row.field];
      assert.ok(pair, `add a sample for ${row.field}`);
      const [l, y] = pair.map((v) => ({ [row.field]: v }) as ContainerFields) as [ContainerFields, ContainerFields];
      assert.deepEqual(merge(y, l)[row.field], y[row.field], 'YAML wins over label');
      assert.deepEqual(merge({}, l)[row.field], l[row.field], 'label when YAML is unset');
      assert.deepEqual(merge(y)[row.field], y[row.field], 'YAML without label');
      assert.equal(row.field in merge({}), false, 'unset when neither sets it');
      assertEmptyRule(row, l);
    });
  }
});

/** `replace`: a set-but-empty YAML value wins (LinuxKit pointers); `replace-non-empty`: "" falls through. */
function assertEmptyRule(row: PrecedenceRow, l: ContainerFields): void {
  const sample = l[row.field];
  const empty = typeof sample === 'string' ? '' : Array.isArray(sample) ? [] : undefined;
  if (empty === undefined) return;
  const got = merge({ [row.field]: empty } as ContainerFields, l)[row.field];
  assert.deepEqual(got, row.rule === 'replace-non-empty' ? sample : empty);
}

describe('image config rows: used only when label and YAML leave the field unset', () => {
  const image = { Entrypoint: ['/ep'], Cmd: ['cmd'], Env: ['A=image'], WorkingDir: '/image' };
  const cases = [
    { name: 'command from Entrypoint+Cmd', field: 'command', want: ['/ep', 'cmd'] },
    { name: 'env from Env', field: 'env', want: ['A=image'] },
    { name: 'cwd from WorkingDir', field: 'cwd', want: '/image' },
  ] as const;
  for (const c of cases) {
    test(c.name, () => {
      assert.ok(precedenceTable.some((r) => r.field === c.field && r.image !== undefined));
      assert.deepEqual(applyImageConfig(merge({}), image)[c.field], c.want);
      const [l, y] = samples[c.field] ?? [];
      assert.deepEqual(applyImageConfig(merge({}, { [c.field]: l }), image)[c.field], l, 'label beats image');
      assert.deepEqual(
        applyImageConfig(merge({ [c.field]: y }, { [c.field]: l }), image)[c.field],
        y,
        'YAML beats both',
      );
    });
  }
  test('NB: a YAML command of [] replaces Entrypoint+Cmd (args left out), as in LinuxKit', () => {
    assert.deepEqual(applyImageConfig(merge({ command: [] }), image).command, []);
  });
  test('Cmd alone, Entrypoint alone, neither', () => {
    assert.deepEqual(applyImageConfig(merge({}), { Cmd: ['/bin/sh'] }).command, ['/bin/sh']);
    assert.deepEqual(applyImageConfig(merge({}), { Entrypoint: ['/ep'], Cmd: null }).command, ['/ep']);
    assert.equal(applyImageConfig(merge({}), { Env: null }).command, undefined);
  });
  test('an empty WorkingDir and a YAML cwd of "" fall through', () => {
    assert.equal(applyImageConfig(merge({ cwd: '' }), { WorkingDir: '' }).cwd, undefined);
    assert.equal(applyImageConfig(merge({ cwd: '' }), { WorkingDir: '/w' }).cwd, '/w');
  });
});

describe('list-plus-add rows', () => {
  const cases: {
    name: string;
    yaml: ContainerFields;
    label?: ContainerFields;
    field: 'binds' | 'capabilities';
    want: string[] | undefined;
  }[] = [
    {
      name: 'binds: label binds when YAML sets none',
      label: { binds: ['/a:/a'] },
      yaml: {},
      field: 'binds',
      want: ['/a:/a'],
    },
    {
      name: 'binds: YAML binds replace the label binds',
      label: { binds: ['/a:/a'] },
      yaml: { binds: ['/b:/b'] },
      field: 'binds',
      want: ['/b:/b'],
    },
    {
      name: 'binds: YAML binds.add appends to label binds',
      label: { binds: ['/a:/a'] },
      yaml: { 'binds.add': ['/c:/c'] },
      field: 'binds',
      want: ['/a:/a', '/c:/c'],
    },
    // NB: LinuxKit drops binds.add here (reference §3.4.3); SPEC §1.2 keeps it.
    {
      name: 'binds: binds.add is kept when YAML binds is set',
      yaml: { binds: ['/b:/b'], 'binds.add': ['/c:/c'] },
      field: 'binds',
      want: ['/b:/b', '/c:/c'],
    },
    {
      name: 'binds: label binds.add, then YAML binds.add',
      label: { binds: ['/a:/a'], 'binds.add': ['/l:/l'] },
      yaml: { 'binds.add': ['/y:/y'] },
      field: 'binds',
      want: ['/a:/a', '/l:/l', '/y:/y'],
    },
    {
      name: 'binds: a later entry for the same destination replaces an earlier one',
      label: { binds: ['/a:/x', '/b:/b'] },
      yaml: { 'binds.add': ['vol:/x:ro'] },
      field: 'binds',
      want: ['/b:/b', 'vol:/x:ro'],
    },
    { name: 'binds: unset everywhere stays unset', yaml: {}, field: 'binds', want: undefined },
    {
      name: 'binds: YAML binds [] clears the label binds',
      label: { binds: ['/a:/a'] },
      yaml: { binds: [] },
      field: 'binds',
      want: [],
    },
    {
      name: 'capabilities: label when YAML sets none',
      label: { capabilities: ['CAP_SYS_ADMIN'] },
      yaml: {},
      field: 'capabilities',
      want: ['CAP_SYS_ADMIN'],
    },
    {
      name: 'capabilities: YAML replaces label',
      label: { capabilities: ['CAP_SYS_ADMIN'] },
      yaml: { capabilities: ['CAP_KILL'] },
      field: 'capabilities',
      want: ['CAP_KILL'],
    },
    {
      name: 'capabilities: .add appended and deduplicated',
      label: { capabilities: ['CAP_SYS_ADMIN'], 'capabilities.add': ['CAP_KILL'] },
      yaml: { 'capabilities.add': ['CAP_SYS_ADMIN', 'CAP_CHOWN'] },
      field: 'capabilities',
      want: ['CAP_SYS_ADMIN', 'CAP_KILL', 'CAP_CHOWN'],
    },
    // NB: LinuxKit drops capabilities.add when capabilities is set; SPEC §1.2 keeps it.
    {
      name: 'capabilities: .add kept when YAML capabilities is set',
      yaml: { capabilities: ['none'], 'capabilities.add': ['CAP_KILL'] },
      field: 'capabilities',
      want: ['none', 'CAP_KILL'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(merge(c.yaml, c.label)[c.field], c.want));
  }
  test('the .add keys do not survive the merge', () => {
    const m = merge({ 'binds.add': ['/a:/a'], 'capabilities.add': ['CAP_KILL'] }) as Record<string, unknown>;
    assert.equal('binds.add' in m, false);
    assert.equal('capabilities.add' in m, false);
  });
});

describe('runtime row: per key, YAML over label', () => {
  test('keys merge independently, bindNS per key', () => {
    const m = merge(
      { runtime: { cgroups: ['y'], bindNS: { net: '/y/net' } } },
      { runtime: { cgroups: ['l'], mkdir: ['/l'], namespace: 'ns', bindNS: { net: '/l/net', pid: '/l/pid' } } },
    );
    assert.deepEqual(m.runtime, {
      cgroups: ['y'],
      mkdir: ['/l'],
      namespace: 'ns',
      bindNS: { net: '/y/net', pid: '/l/pid' },
    });
  });
  test('a YAML list set to [] replaces the label list', () => {
    assert.deepEqual(merge({ runtime: { mkdir: [] } }, { runtime: { mkdir: ['/l'] } }).runtime, { mkdir: [] });
  });
  test('unset when neither has a runtime block', () => assert.equal(merge({}).runtime, undefined));
});

test('name and image come from the YAML entry', () => {
  const m = merge({});
  assert.equal(m.name, 'c');
  assert.equal(m.image, 'example.com/c:1');
});
