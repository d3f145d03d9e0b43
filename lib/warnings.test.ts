import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { warningCodes, type WarningCode } from './warnings.js';
import { readmeTable } from './internal/testing/readme.js';
import { repoRoot } from './internal/testing/testdata.js';

// Codes are API: this list pins every code (a code added or removed must be added or removed here too).
const table: WarningCode[] = [
  'LKVOL_WARN_PLATFORM',
  'LKVOL_WARN_CREDENTIALS',
  'LKVOL_WARN_MIRROR',
  'LKVOL_WARN_MIRROR_RESOLVE',
  'LKVOL_WARN_DEVICE_SKIPPED',
  'LKVOL_WARN_XATTR_DROPPED',
  'LKVOL_WARN_AUFS_SKIPPED',
  'LKVOL_WARN_TRAILING_DATA',
  'LKVOL_WARN_GLOBAL_PAX',
  'LKVOL_WARN_CACHE_CORRUPT',
  'LKVOL_WARN_RELATIVE_DESTINATION',
  'LKVOL_WARN_LINUXKIT_IGNORES',
  'LKVOL_WARN_AMBIGUOUS_ID',
  'LKVOL_WARN_HOST_PATH_DOTDOT',
  'LKVOL_WARN_NOT_LOCKED',
  'LKVOL_WARN_STAGING_LEFT',
  'LKVOL_WARN_PREVIOUS_LEFT',
];

test('the warning code list is complete', () => {
  assert.deepEqual([...warningCodes].sort(), [...table].sort());
  assert.equal(new Set(warningCodes).size, warningCodes.length, 'no code is listed twice');
});

test('the README "Warnings" table lists exactly the warning codes, in their order', () => {
  const rows = readmeTable('### Warnings');
  assert.deepEqual(
    rows.map((r) => r[0]),
    [...warningCodes],
  );
  for (const [code, meaning] of rows) assert.ok((meaning ?? '') !== '', `${code ?? ''} has a meaning`);
});

/** lib/ and cmd/ sources that ship (no tests, no test helpers), comments removed. */
function shippedSources(): string[] {
  const root = repoRoot();
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = join(dir, e.name);
      if (e.isDirectory()) return p.includes(join('internal', 'testing')) ? [] : walk(p);
      return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
    });
  return [...walk(join(root, 'lib')), ...walk(join(root, 'cmd'))]
    .filter((p) => p !== join(root, 'lib', 'warnings.ts'))
    .map((p) =>
      readFileSync(p, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:])\/\/.*$/gm, '$1'),
    );
}

// A code counts as emitted where a value carries it: an object's `code: 'X',` or a call's first argument
// `('X',`. NB: type declarations do not count (`code: 'X' | 'Y';`, `{ code: 'X'; … }`: Prettier ends type
// members with `;`), nor comparisons or comments, so a code whose last emitter went away fails here.
const sources = shippedSources();
for (const code of warningCodes) {
  test(`${code} is emitted by lib or cmd`, () => {
    const emitted = new RegExp(String.raw`(?:\bcode: |\()'${code}',`);
    assert.ok(
      sources.some((s) => emitted.test(s)),
      `no source emits ${code}`,
    );
  });
}
