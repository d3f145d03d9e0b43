import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError,
  DigestMismatchError,
  LkvolError,
  RegistryError,
  UnsafePathError,
  errorCodes,
  exitCodeFor,
  formatConfigIssue,
  withContext,
  wrapError,
  type ErrorCode,
} from './errors.js';
import { readmeTable } from './internal/testing/readme.js';

// Codes are API: this table pins every code and its exit status.
const table: [ErrorCode, number][] = [
  ['LKVOL_USAGE', 2],
  ['LKVOL_OUTPUT_REFUSED', 2],
  ['LKVOL_CONFIG_SYNTAX', 2],
  ['LKVOL_CONFIG_INVALID', 2],
  ['LKVOL_REF_INVALID', 2],
  ['LKVOL_LOCK', 2],
  ['LKVOL_POLICY_VIOLATION', 2],
  ['LKVOL_REGISTRY_AUTH', 1],
  ['LKVOL_REGISTRY_NOT_FOUND', 1],
  ['LKVOL_REGISTRY_UNAVAILABLE', 1],
  ['LKVOL_REGISTRY_PROTOCOL', 1],
  ['LKVOL_PLATFORM_NOT_FOUND', 1],
  ['LKVOL_UNSUPPORTED_MEDIA_TYPE', 1],
  ['LKVOL_DIGEST_MISMATCH', 1],
  ['LKVOL_LAYER_UNSAFE_PATH', 1],
  ['LKVOL_LAYER_CORRUPT', 1],
  ['LKVOL_LAYER_LIMIT', 1],
  ['LKVOL_PROVISIONER', 1],
  ['LKVOL_LOCAL_IMAGE', 1],
  ['LKVOL_IO', 1],
  ['LKVOL_CANCELLED', 130],
  ['LKVOL_INTERNAL', 1],
];

test('the code table is complete', () => {
  assert.deepEqual(Object.keys(errorCodes).sort(), table.map(([c]) => c).sort());
});

for (const [code, exit] of table) {
  test(`${code} exits ${exit}`, () => {
    const err = new LkvolError(code, 'x');
    assert.equal(err.code, code);
    assert.equal(exitCodeFor(err), exit);
  });
}

test('the README "Errors" table lists exactly the error codes with their exit codes', () => {
  assert.deepEqual(
    readmeTable('### Errors').map(([code, exit]) => [code, Number(exit)]),
    Object.entries(errorCodes),
  );
});

test('a foreign error exits 1', () => {
  assert.equal(exitCodeFor(new Error('boom')), 1);
});

test('ConfigError renders file:line:col: path: message per issue', () => {
  const err = new ConfigError('LKVOL_CONFIG_INVALID', [
    { file: 'a.yml', line: 3, column: 5, path: 'volumes[0].name', message: 'bad' },
    { file: 'a.yml', line: 9, column: 1, path: '', message: 'worse' },
  ]);
  assert.equal(err.message, 'a.yml:3:5: volumes[0].name: bad\na.yml:9:1: worse');
  assert.equal(formatConfigIssue(err.issues[0]!), 'a.yml:3:5: volumes[0].name: bad');
  assert.equal(exitCodeFor(err), 2);
});

test('structured subclasses carry their fields', () => {
  const u = new UnsafePathError({ layer: 'sha256:abc', entry: '../x', reason: 'escapes the volume root' });
  assert.equal(u.code, 'LKVOL_LAYER_UNSAFE_PATH');
  assert.equal(u.message, 'layer sha256:abc: entry "../x": escapes the volume root; refusing to extract');
  const d = new DigestMismatchError({ subject: 'layer l', expected: 'sha256:1', actual: 'sha256:2', bytesRead: 7 });
  assert.equal(d.message, 'layer l: digest mismatch after 7 bytes: expected sha256:1, got sha256:2');
});

describe('context', () => {
  test('addContext names where the error happened, outermost first, in the message and as a field', () => {
    const err = new LkvolError('LKVOL_LAYER_CORRUPT', 'layer sha256:1: bad header');
    assert.equal(err.addContext('image r/x:1').addContext('volume "data"'), err);
    assert.equal(err.message, 'volume "data": image r/x:1: layer sha256:1: bad header');
    assert.deepEqual(err.context, ['volume "data"', 'image r/x:1']);
  });

  test('the same context is never added twice', () => {
    const err = new LkvolError('LKVOL_IO', 'x').addContext('volume "a"').addContext('volume "a"');
    assert.equal(err.message, 'volume "a": x');
    assert.deepEqual(err.context, ['volume "a"']);
    // NB: an inner context added again from further out is still known.
    err.addContext('outer').addContext('volume "a"');
    assert.equal(err.message, 'outer: volume "a": x');
  });

  test('a message made with the context in front is only recorded, not prefixed again', () => {
    const err = wrapError(new Error('EACCES'), 'LKVOL_IO', 'volume "a": create /o/a');
    withContext(err, 'volume "a"');
    assert.equal((err as LkvolError).message, 'volume "a": create /o/a: EACCES');
    assert.deepEqual((err as LkvolError).context, ['volume "a"']);
  });

  test('subclasses keep their class and fields; an explained registry error keeps its context', () => {
    const r = new RegistryError('LKVOL_REGISTRY_AUTH', 'pull r/x:1: GET /v2/: 401', { status: 401 });
    withContext(r, 'services "web"');
    assert.ok(r instanceof RegistryError);
    const explained = r.explained({ message: `${r.message}; no credentials`, hint: 'log in' });
    assert.equal(explained.message, 'services "web": pull r/x:1: GET /v2/: 401; no credentials');
    assert.deepEqual(explained.context, ['services "web"']);
  });

  test('a config error is left as it is: its issues are located', () => {
    const err = new ConfigError('LKVOL_CONFIG_INVALID', [
      { file: 'a.yml', line: 3, column: 5, path: 'volumes[0].name', message: 'bad' },
    ]);
    withContext(err, 'volume "a"');
    assert.equal(err.message, 'a.yml:3:5: volumes[0].name: bad');
    assert.deepEqual(err.context, []);
  });

  test('withContext passes other errors through unchanged', () => {
    const foreign = new Error('boom');
    assert.equal(withContext(foreign, 'volume "a"'), foreign);
    assert.equal(foreign.message, 'boom');
  });
});

test('wrapError keeps the cause and passes LkvolErrors through', () => {
  const cause = Object.assign(new Error('no space left'), { code: 'ENOSPC' });
  const w = wrapError(cause, 'LKVOL_IO', 'write lower/');
  assert.equal(w.message, 'write lower/: ENOSPC: no space left');
  assert.equal(w.cause, cause);
  const own = new LkvolError('LKVOL_USAGE', 'u');
  assert.equal(wrapError(own, 'LKVOL_IO', 'x'), own);
  const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
  assert.equal(wrapError(abort, 'LKVOL_IO', 'x').code, 'LKVOL_CANCELLED');
});
