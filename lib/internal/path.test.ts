import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { below } from './path.js';

test('below joins a clean relative path as path.join would', () => {
  for (const [dir, rel] of [
    ['/out/lower', 'etc/passwd'],
    ['/out/lower', ''],
    ['/', 'etc'],
    ['/out/lower/', 'a b/\\c'],
    ['relative/dir', 'x'],
    ['', 'x/y'],
  ] as const)
    assert.equal(below(dir, rel), rel === '' ? dir : join(dir, rel), `${JSON.stringify(dir)} + ${rel}`);
});
