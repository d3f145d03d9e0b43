// Flag helpers: suggestions for typos, size flags, the CI variable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCI, nearest, parseFlags, sizeFlag } from './args.js';

test('nearest: a typo gets its candidate, a stranger nothing', () => {
  assert.equal(nearest('biuld', ['build', 'validate', 'lock', 'inspect']), 'build');
  assert.equal(nearest('lok', ['build', 'validate', 'lock', 'inspect']), 'lock');
  assert.equal(nearest('deploy', ['build', 'validate', 'lock', 'inspect']), undefined);
});

test('an unknown flag is LKVOL_USAGE suggesting the nearest one', () => {
  assert.throws(
    () => parseFlags('build', ['--rootf'], { rootfs: { type: 'boolean' }, output: { type: 'string' } }),
    (e: Error & { code?: string }) =>
      e.code === 'LKVOL_USAGE' && /Unknown option '--rootf'; did you mean --rootfs\?$/.test(e.message),
  );
  assert.throws(
    () => parseFlags('build', ['--zzzzzz'], { rootfs: { type: 'boolean' } }),
    (e: Error) => !/did you mean/.test(e.message),
  );
});

test('size flags take the units of sizeLimit', () => {
  assert.equal(sizeFlag('build', 'max-bytes', '1Ki'), 1024);
  assert.equal(sizeFlag('build', 'max-bytes', '2G'), 2e9);
  assert.equal(sizeFlag('build', 'max-bytes', '4096'), 4096);
  assert.equal(sizeFlag('build', 'max-bytes', undefined), undefined);
  assert.throws(
    () => sizeFlag('build', 'max-bytes', '12 apples'),
    (e: Error & { code?: string }) => e.code === 'LKVOL_USAGE' && /--max-bytes: invalid size/.test(e.message),
  );
});

test('CI: anything but empty, false or 0', () => {
  assert.deepEqual(
    ['true', '1', 'yes', 'woodpecker'].map((v) => isCI({ CI: v })),
    [true, true, true, true],
  );
  assert.deepEqual(
    ['', 'false', 'FALSE', '0', undefined].map((v) => isCI({ CI: v })),
    [false, false, false, false, false],
  );
});
