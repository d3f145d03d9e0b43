// The org.mobyproject.config label: absent, valid JSON, and every way it can be refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLkvolError } from '../errors.js';
import { parseImageLabel } from './label.js';

const key = 'org.mobyproject.config';
const parse = (text: string | undefined) =>
  parseImageLabel(text === undefined ? { other: 'x' } : { [key]: text }, { image: 'docker.io/linuxkit/mount:v1' });

test('no labels, no label, or an empty label give undefined', () => {
  assert.equal(parseImageLabel(undefined, { image: 'i' }), undefined);
  assert.equal(parseImageLabel(null, { image: 'i' }), undefined);
  assert.equal(parse(undefined), undefined);
  assert.equal(parse(''), undefined);
});

test('a JSON label as linuxkit pkg build writes it', () => {
  const text =
    '{"binds":["/dev:/dev","/var:/var:rshared,rbind","/:/hostroot"],"capabilities":["CAP_SYS_ADMIN"],"rootfsPropagation":"shared","binds.add":["/x:/x"]}';
  assert.deepEqual(parse(text), {
    binds: ['/dev:/dev', '/var:/var:rshared,rbind', '/:/hostroot'],
    capabilities: ['CAP_SYS_ADMIN'],
    rootfsPropagation: 'shared',
    'binds.add': ['/x:/x'],
  });
});

const bad = [
  { name: 'YAML (not JSON)', text: 'binds:\n  - /dev:/dev\n', want: /label org\.mobyproject\.config: is not JSON/ },
  { name: 'an array', text: '["/dev:/dev"]', want: /must be a JSON object, got an array/ },
  { name: 'a string', text: '"x"', want: /must be a JSON object, got string/ },
  { name: 'null', text: 'null', want: /must be a JSON object, got null/ },
  { name: 'name set', text: '{"name":"x"}', want: /name cannot be set in the label/ },
  { name: 'image set', text: '{"image":"x"}', want: /image cannot be set in the label/ },
  { name: 'an unknown key', text: '{"volumes":[]}', want: /volumes/ },
  { name: 'a wrong type, with its path', text: '{"binds":["/a:/a", 3]}', want: /binds\[1\]: / },
  { name: 'a nested wrong type', text: '{"resources":{"memory":{"limit":"1G"}}}', want: /resources\.memory\.limit: / },
];
for (const c of bad) {
  test(`refuses ${c.name}`, () => {
    assert.throws(
      () => parse(c.text),
      (err) =>
        isLkvolError(err, 'LKVOL_CONFIG_INVALID') &&
        err.message.startsWith(`image docker.io/linuxkit/mount:v1: label ${key}: `) &&
        c.want.test(err.message) &&
        err.hint !== undefined,
    );
  });
}

test('the JSON syntax error is kept as the cause', () => {
  assert.throws(
    () => parse('{'),
    (err) => isLkvolError(err) && err.cause instanceof SyntaxError,
  );
});

test("LinuxKit's lower-case spellings in a label become the OCI ones", () => {
  const text =
    '{"resources":{"blockio":{"weight":10}},"mounts":[{"type":"bind","source":"/a","destination":"/a","uidmappings":[{"hostID":1,"containerID":0,"size":1}]}]}';
  assert.deepEqual(parse(text), {
    resources: { blockIO: { weight: 10 } },
    mounts: [{ type: 'bind', source: '/a', destination: '/a', uidMappings: [{ hostID: 1, containerID: 0, size: 1 }] }],
  });
});
