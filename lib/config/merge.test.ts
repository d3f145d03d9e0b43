// Tests of what parseConfig returns: merge order, defaults, references and source positions.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { testdataPath } from '../internal/testing/testdata.js';
import { parseConfig } from './load.js';
import { containerSchema, volumeSchema } from './schema.js';

const a = `kernel:
  image: linuxkit/kernel:6.6.71
  cmdline: console=ttyS0
init: [linuxkit/init:v1]
volumes:
  - name: data
    image: alpine:3.21
    readonly: true
    sizeLimit: 512Mi
onboot:
  - name: one
    image: alpine
services:
  - name: web
    image: nginx:1.27
trust:
  org: [linuxkit]
`;
const b = `kernel:
  cmdline: console=ttyAMA0
init: [linuxkit/runc:v2]
volumes:
  - name: images
    image: registry.example.com:5000/team/images@sha256:${'a'.repeat(64)}
    format: oci
    platforms: [linux/amd64]
  - name: blank
onboot:
  - name: two
    image: alpine
services:
  - name: api
    image: nginx:1.27
    binds: [data:/data:ro]
files:
  - path: etc/x
    contents: x
trust:
  org: [example]
`;

describe('merging files', () => {
  const config = parseConfig([
    { file: 'a.yml', text: a },
    { file: 'b.yml', text: b },
  ]);

  test('files are listed in the order given', () => assert.deepEqual(config.files, ['a.yml', 'b.yml']));

  test('sections append and containers are numbered across files', () => {
    assert.deepEqual(
      config.onboot.map((c) => [c.name, c.index, c.path, c.pos.file]),
      [
        ['one', 0, 'onboot[0]', 'a.yml'],
        ['two', 1, 'onboot[0]', 'b.yml'],
      ],
    );
    assert.deepEqual(
      config.services.map((c) => c.name),
      ['web', 'api'],
    );
    assert.deepEqual(config.onshutdown, []);
    assert.deepEqual(config.init, ['linuxkit/init:v1', 'linuxkit/runc:v2']);
    assert.deepEqual(
      config.fileEntries.map((f) => f.entry.path),
      ['etc/x'],
    );
  });

  test('kernel fields of a later file win; trust lists append', () => {
    assert.deepEqual(config.kernel, { image: 'linuxkit/kernel:6.6.71', cmdline: 'console=ttyAMA0' });
    assert.deepEqual(config.trust, { image: [], org: ['linuxkit', 'example'] });
  });

  test('volumes get their defaults, parsed references and sizes in bytes', () => {
    const [data, images, blank] = config.volumes;
    assert.deepEqual(
      config.volumes.map((v) => [v.name, v.readonly, v.format, v.platforms, v.sizeLimit]),
      [
        ['data', true, 'filesystem', undefined, 512 * 2 ** 20],
        ['images', false, 'oci', ['linux/amd64'], undefined],
        ['blank', false, 'filesystem', undefined, undefined],
      ],
    );
    assert.deepEqual(data?.ref, {
      registry: 'docker.io',
      repository: 'library/alpine',
      tag: '3.21',
      digest: undefined,
    });
    assert.equal(images?.ref?.registry, 'registry.example.com:5000');
    assert.equal(images?.ref?.digest, `sha256:${'a'.repeat(64)}`);
    assert.equal(blank?.ref, undefined);
  });

  test('container references are normalised', () => {
    assert.deepEqual(config.onboot[0]?.ref, {
      registry: 'docker.io',
      repository: 'library/alpine',
      tag: 'latest',
      digest: undefined,
    });
  });

  test('positions point into the right file', () => {
    const api = config.services[1]!;
    assert.deepEqual(api.pos, { file: 'b.yml', line: 14, column: 5 });
    assert.deepEqual(api.positionOf(['binds', 0]), { file: 'b.yml', line: 16, column: 13 });
    // NB: a path that does not exist points at its nearest existing ancestor.
    assert.deepEqual(api.positionOf(['mounts', 3, 'source']), api.pos);
    assert.deepEqual(config.volumes[0]!.positionOf(['sizeLimit']), { file: 'a.yml', line: 9, column: 16 });
  });
});

test('an empty file and a file of comments are an empty config', () => {
  const config = parseConfig([
    { file: 'empty.yml', text: '' },
    { file: 'comments.yml', text: '# nothing here\n' },
  ]);
  assert.deepEqual(
    [config.volumes, config.onboot, config.services, config.onshutdown, config.init],
    [[], [], [], [], []],
  );
  assert.equal(config.kernel, undefined);
});

test('no files at all are an empty config', () => {
  assert.deepEqual(parseConfig([]).files, []);
});

test('LinuxKit lower-case spellings are renamed to the runtime-spec ones', () => {
  const text = readFileSync(testdataPath('config', 'valid', 'kitchen-sink.yml'), 'utf8');
  const entry = parseConfig([{ file: 'kitchen-sink.yml', text }]).services[0]!.entry;
  assert.equal(entry.resources?.blockIO?.weight, 100);
  assert.equal(entry.resources?.blockio, undefined);
  assert.deepEqual(entry.mounts?.[1]?.uidMappings, [{ hostID: 1000, containerID: 0, size: 1 }]);
  assert.equal(entry.mounts?.[1]?.uidmappings, undefined);
});

test('merge keys and aliases are resolved', () => {
  const text = readFileSync(testdataPath('config', 'valid', 'anchors-and-merge-keys.yml'), 'utf8');
  const [one, two] = parseConfig([{ file: 'anchors.yml', text }]).services;
  assert.deepEqual(
    [one?.entry.image, two?.entry.image, two?.name, two?.entry.binds],
    ['alpine:3.21', 'alpine:3.21', 'two', ['data:/data']],
  );
});

test('the kitchen-sink file uses every container and volume key', () => {
  const text = readFileSync(testdataPath('config', 'valid', 'kitchen-sink.yml'), 'utf8');
  const config = parseConfig([{ file: 'kitchen-sink.yml', text }]);
  const used = (entries: object[]): string[] => [...new Set(entries.flatMap((e) => Object.keys(e)))].sort();
  assert.deepEqual(used([config.services[0]!.entry]), Object.keys(containerSchema.shape).sort());
  assert.deepEqual(used(config.volumes.map((v) => v.entry)), Object.keys(volumeSchema.shape).sort());
});
