// Table tests for WWW-Authenticate parsing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWwwAuthenticate } from './challenge.js';

const cases = [
  {
    name: 'bearer with realm, service and scope',
    input:
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
    want: [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/alpine:pull',
        },
      },
    ],
  },
  {
    name: 'basic with a realm',
    input: 'Basic realm="Registry Realm"',
    want: [{ scheme: 'basic', params: { realm: 'Registry Realm' } }],
  },
  {
    name: 'scheme and parameter names are lowercased',
    input: 'BEARER Realm="r"',
    want: [{ scheme: 'bearer', params: { realm: 'r' } }],
  },
  {
    name: 'spaces around = and commas are allowed',
    input: 'Bearer realm = "r" , service = "s"',
    want: [{ scheme: 'bearer', params: { realm: 'r', service: 's' } }],
  },
  {
    name: 'unquoted values are read up to the comma',
    input: 'Bearer realm=r,service=s',
    want: [{ scheme: 'bearer', params: { realm: 'r', service: 's' } }],
  },
  // NB: a scope may itself hold commas (several actions); quoting keeps it whole.
  {
    name: 'commas inside quotes stay in the value',
    input: 'Bearer realm="r",scope="repository:a/b:pull,push"',
    want: [{ scheme: 'bearer', params: { realm: 'r', scope: 'repository:a/b:pull,push' } }],
  },
  {
    name: 'escaped quotes are unescaped',
    input: 'Basic realm="a \\"b\\" c"',
    want: [{ scheme: 'basic', params: { realm: 'a "b" c' } }],
  },
  {
    name: 'two challenges in one header',
    input: 'Bearer realm="https://a/token",service="s", Basic realm="b"',
    want: [
      { scheme: 'bearer', params: { realm: 'https://a/token', service: 's' } },
      { scheme: 'basic', params: { realm: 'b' } },
    ],
  },
  {
    name: 'error parameter of insufficient_scope is kept',
    input: 'Bearer realm="r",error="insufficient_scope"',
    want: [{ scheme: 'bearer', params: { realm: 'r', error: 'insufficient_scope' } }],
  },
  { name: 'a scheme without parameters', input: 'Negotiate', want: [{ scheme: 'negotiate', params: {} }] },
  { name: 'an empty header gives nothing', input: '', want: [] },
  { name: 'garbage stops parsing without throwing', input: '"oops', want: [] },
];
for (const c of cases) {
  test(`parseWwwAuthenticate: ${c.name}`, () => {
    assert.deepEqual(parseWwwAuthenticate(c.input), c.want);
  });
}

test('parseWwwAuthenticate: several header values are all read', () => {
  assert.deepEqual(
    parseWwwAuthenticate(['Basic realm="x"', 'Bearer realm="y"']).map((c) => c.scheme),
    ['basic', 'bearer'],
  );
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
});
