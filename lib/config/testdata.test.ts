// Table tests over testdata/config: each valid/ case loads to its .want.json, each invalid/ case fails with its .want.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, formatConfigIssue } from '../errors.js';
import { stableJson } from '../internal/stable-json.js';
import { testdataPath } from '../internal/testing/testdata.js';
import { formatReference } from '../ref/index.js';
import { parseConfig, type Config, type ConfigSource, type SourcePos } from './index.js';

/**
 * A case is `<name>.yml`, or a directory `<name>/` whose `*.yml` files load in name order. Issues name the
 * files by base name. An invalid case's `<name>.want` holds the error code, then one issue per line; a valid
 * case's `<name>.want.json` what it loads to (see `describeConfig`), and `<name>.warnings` one warning per
 * line (code, then the issue).
 * Run with UPDATE_GOLDEN=1 to rewrite the .want, .want.json and .warnings files (then review the diff).
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

const at = (pos: SourcePos) => `${pos.file}:${pos.line}:${pos.column}`;

/**
 * What a system file loads to, as JSON: each entry where it was written, its image as a normalized
 * reference, and what load made of it (defaults, sizes, timeouts; a container's fields as validated).
 */
function describeConfig(config: Config): unknown {
  const containers = (section: 'onboot' | 'services' | 'onshutdown') =>
    config[section].map(({ name, index, ref, entry, pos }) => {
      const { name: _name, image: _image, ...fields } = entry;
      return { at: at(pos), index, name, image: formatReference(ref), fields };
    });
  return {
    sources: config.files,
    volumes: config.volumes.map((v) => ({
      at: at(v.pos),
      name: v.name,
      image: v.ref === undefined ? null : formatReference(v.ref),
      readonly: v.readonly,
      format: v.format,
      platforms: v.platforms,
      sizeLimit: v.sizeLimit,
      provisioner: v.provisioner,
    })),
    onboot: containers('onboot'),
    services: containers('services'),
    onshutdown: containers('onshutdown'),
    init: config.init,
    kernel: config.kernel,
    files: config.fileEntries.map((f) => ({ at: at(f.pos), ...f.entry })),
    trust: config.trust,
  };
}

/** Compares `got` with testdata/config/valid/<file>; UPDATE_GOLDEN=1 rewrites it (removes it when `got` is empty). */
function assertGolden(file: string, got: string): void {
  const wantFile = testdataPath('config', 'valid', file);
  if (process.env['UPDATE_GOLDEN'] === '1') {
    if (got === '') rmSync(wantFile, { force: true });
    else writeFileSync(wantFile, got);
  }
  assert.equal(got, existsSync(wantFile) ? readFileSync(wantFile, 'utf8') : '', file);
}

describe('valid system files load to <name>.want.json, with exactly the warnings in <name>.warnings', () => {
  for (const c of cases('valid')) {
    test(c.name, () => {
      const config = parseConfig(c.sources);
      assertGolden(`${c.name}.want.json`, stableJson(describeConfig(config)));
      assertGolden(`${c.name}.warnings`, config.warnings.map((w) => `${w.code} ${formatConfigIssue(w)}\n`).join(''));
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
