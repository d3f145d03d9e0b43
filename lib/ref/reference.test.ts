import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReference, isLoopbackRegistry, parseReference, referenceKey } from './reference.js';
import { isLkvolError } from '../errors.js';

const hex = 'a'.repeat(64);

const valid = [
  {
    name: 'official image gets docker.io/library and latest',
    input: 'alpine',
    want: 'docker.io/library/alpine:latest',
  },
  { name: 'user image on Docker Hub', input: 'bitnami/redis:7', want: 'docker.io/bitnami/redis:7' },
  {
    name: 'index.docker.io is canonicalised',
    input: 'index.docker.io/library/alpine:3.21',
    want: 'docker.io/library/alpine:3.21',
  },
  { name: 'docker.io without library gets it', input: 'docker.io/alpine', want: 'docker.io/library/alpine:latest' },
  {
    name: 'host with port is a registry, not a tag',
    input: '127.0.0.1:5000/site/assets',
    want: '127.0.0.1:5000/site/assets:latest',
  },
  { name: 'localhost is a registry', input: 'localhost/x:1', want: 'localhost/x:1' },
  { name: 'dotted host is a registry and gets no library/', input: 'ghcr.io/x:1', want: 'ghcr.io/x:1' },
  { name: 'ipv6 host with port', input: '[::1]:5000/a/b:c', want: '[::1]:5000/a/b:c' },
  {
    name: 'digest only: no latest added',
    input: `alpine@sha256:${hex}`,
    want: `docker.io/library/alpine@sha256:${hex}`,
  },
  // NB: both are kept; the digest wins when pulling.
  {
    name: 'tag and digest are both kept',
    input: `alpine:3.21@sha256:${hex}`,
    want: `docker.io/library/alpine:3.21@sha256:${hex}`,
  },
  {
    name: 'separators in path components',
    input: 'reg.io/a_b/c__d/e-f--g.h:v1.0_x-y',
    want: 'reg.io/a_b/c__d/e-f--g.h:v1.0_x-y',
  },
];

for (const c of valid) {
  test(`parseReference: ${c.name}`, () => {
    assert.equal(formatReference(parseReference(c.input)), c.want);
  });
}

const invalid = [
  { name: 'empty', input: '', why: /empty/ },
  { name: 'uppercase repository', input: 'docker.io/Library/alpine', why: /lowercase/ },
  { name: 'tag with a colon', input: 'alpine:3.21:x', why: /tag "3.21:x"|path component|tag/ },
  { name: 'tag starting with a dot', input: 'alpine:.x', why: /tag/ },
  { name: 'tag too long', input: `alpine:${'x'.repeat(129)}`, why: /tag/ },
  { name: 'short digest', input: 'alpine@sha256:abc', why: /digest/ },
  { name: 'digest with path tricks', input: 'alpine@sha256:../../x', why: /digest/ },
  { name: 'uppercase hex digest', input: `alpine@sha256:${'A'.repeat(64)}`, why: /digest/ },
  { name: 'unknown digest algorithm', input: `alpine@md5:${hex}`, why: /digest/ },
  { name: 'white space', input: 'alp ine', why: /white space/ },
  { name: 'empty component', input: 'reg.io//x', why: /path component/ },
  { name: 'leading separator', input: 'reg.io/-x', why: /path component/ },
  { name: 'port out of range', input: 'reg.io:70000/x', why: /port/ },
  { name: 'repository missing after host', input: 'reg.io/', why: /missing repository|path component/ },
];

for (const c of invalid) {
  test(`parseReference rejects: ${c.name}`, () => {
    assert.throws(
      () => parseReference(c.input),
      (err: unknown) =>
        isLkvolError(err, 'LKVOL_REF_INVALID') &&
        c.why.test(err.message) &&
        err.message.includes(JSON.stringify(c.input)),
    );
  });
}

test('parseReference: split host from uppercase first component', () => {
  // NB: uppercase cannot be a Docker Hub namespace, so Docker treats it as a host.
  assert.equal(parseReference('MyHost/x').registry, 'MyHost');
});

test('isLoopbackRegistry', () => {
  assert.equal(isLoopbackRegistry('127.0.0.1:5000'), true);
  assert.equal(isLoopbackRegistry('127.3.2.1'), true);
  assert.equal(isLoopbackRegistry('localhost:80'), true);
  assert.equal(isLoopbackRegistry('[::1]:5000'), true);
  assert.equal(isLoopbackRegistry('docker.io'), false);
  assert.equal(isLoopbackRegistry('128.0.0.1'), false);
});

test('parseReference: local images keep their path as written and find it from the system file', () => {
  const layout = parseReference('oci-layout:images/app:v1', { base: '/srv/sys' });
  assert.deepEqual(layout.local, {
    transport: 'oci-layout',
    path: 'images/app',
    location: '/srv/sys/images/app',
    name: 'v1',
  });
  assert.equal(formatReference(layout), 'oci-layout:images/app:v1');
  // The path ends at the first colon (skopeo): an archive's name may be name:tag, and a digest pins it.
  const archive = parseReference(`docker-archive:/abs/app.tar:example.com/app:1@sha256:${hex}`, { base: '/srv/sys' });
  assert.deepEqual(archive.local, {
    transport: 'docker-archive',
    path: '/abs/app.tar',
    location: '/abs/app.tar',
    name: 'example.com/app:1',
  });
  assert.equal(archive.digest, `sha256:${hex}`);
  assert.equal(formatReference(archive), `docker-archive:/abs/app.tar:example.com/app:1@sha256:${hex}`);
  assert.equal(parseReference('oci-layout:dir').local?.name, undefined);
  // The same relative path from two directories is two images.
  assert.notEqual(
    referenceKey(parseReference('oci-layout:dir', { base: '/a' })),
    referenceKey(parseReference('oci-layout:dir', { base: '/b' })),
  );
  assert.equal(referenceKey(parseReference('alpine')), 'docker.io/library/alpine:latest');
});

test('parseReference: a local image without a path or with an empty name is refused', () => {
  for (const input of ['oci-layout:', 'oci-layout::v1', 'docker-archive:x.tar:', 'docker-archive:']) {
    assert.throws(
      () => parseReference(input),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_REF_INVALID') &&
        e.message.includes(JSON.stringify(input)) &&
        /PATH\[:REF\]/.test(e.hint ?? ''),
      input,
    );
  }
});
