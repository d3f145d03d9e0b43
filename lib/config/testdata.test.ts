// Table tests over testdata/config: every valid/ case loads, every invalid/ case fails with exactly its .want.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, formatConfigIssue } from '../errors.js';
import { testdataPath } from '../internal/testing/testdata.js';
import { parseConfig, type ConfigSource } from './index.js';

/**
 * A case is `<name>.yml`, or a directory `<name>/` whose `*.yml` files load in name order. Issues name the
 * files by base name. An invalid case's `<name>.want` holds the error code, then one issue per line; a valid
 * case's `<name>.warnings` one warning per line (code, then the issue).
 * Run with UPDATE_GOLDEN=1 to rewrite the .want files (then review the diff).
 */
function readCase(dir: string, entry: string): { name: string; sources: ConfigSource[] } {
  const full = join(dir, entry);
  if (statSync(full).isDirectory()) {
    const files = readdirSync(full)
      .filter((f) => f.endsWith('.yml'))
      .sort();
    return { name: entry, sources: files.map((f) => ({ file: f, text: readFileSync(join(full, f), 'utf8') })) };
  }
  return { name: basename(entry, '.yml'), sources: [{ file: entry, text: readFileSync(full, 'utf8') }] };
}

function cases(kind: 'valid' | 'invalid'): { name: string; sources: ConfigSource[] }[] {
  const dir = testdataPath('config', kind);
  return readdirSync(dir)
    .filter((e) => e.endsWith('.yml') || statSync(join(dir, e)).isDirectory())
    .sort()
    .map((e) => readCase(dir, e));
}

describe('valid system files load, with exactly the warnings in <name>.warnings (none when absent)', () => {
  for (const c of cases('valid')) {
    test(c.name, () => {
      const wantFile = testdataPath('config', 'valid', `${c.name}.warnings`);
      const got = parseConfig(c.sources)
        .warnings.map((w) => `${w.code} ${formatConfigIssue(w)}\n`)
        .join('');
      if (process.env['UPDATE_GOLDEN'] === '1') {
        if (got === '') rmSync(wantFile, { force: true });
        else writeFileSync(wantFile, got);
      }
      assert.equal(got, existsSync(wantFile) ? readFileSync(wantFile, 'utf8') : '');
    });
  }
});

describe('invalid system files report every issue with file:line:col', () => {
  for (const c of cases('invalid')) {
    test(c.name, () => {
      const wantFile = testdataPath('config', 'invalid', `${c.name}.want`);
      let got: string;
      try {
        parseConfig(c.sources);
        got = 'no error\n';
      } catch (err) {
        assert.ok(err instanceof ConfigError, `want a ConfigError, got ${String(err)}`);
        got = `${err.code}\n${err.message}\n`;
      }
      if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(wantFile, got);
      assert.equal(got, readFileSync(wantFile, 'utf8'));
    });
  }
});
