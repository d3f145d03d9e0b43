// The LinuxKit corpus tooling: reading test.sh builds, comparing specs, recognising deliberate deviations,
// and the committed corpus (testdata/linuxkit) holding together: every build's files, expected specs and images.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { specDifferences } from './compare.js';
import { corpusDir, readCorpusBuilds, readCorpusImages } from './corpus-files.js';
import { classify } from './deviations.js';
import { parseTestScript } from './test-script.js';

describe('parseTestScript', () => {
  test('merged files in order, flags skipped, variables expanded, continued lines joined', () => {
    const script = [
      '#!/bin/sh',
      'set -e',
      'NAME=sshd',
      'linuxkit build --format kernel+initrd --name foo ../../common.yml test.yml',
      'linuxkit -v 2 build \\',
      '  --o x.tar "${LINUXKIT_EXAMPLES_DIR}/${NAME}.yml"',
      'linuxkit pkg build ../pkg',
    ].join('\n');
    const { builds, unparsed } = parseTestScript(script, new Map([['LINUXKIT_EXAMPLES_DIR', '../../../examples']]));
    assert.deepEqual(builds, [
      { line: 4, files: ['../../common.yml', 'test.yml'], expect: 'build' },
      { line: 5, files: ['../../../examples/sshd.yml'], expect: 'build' },
    ]);
    assert.deepEqual(unparsed, []);
  });

  test('the ways a LinuxKit test says a build must fail', () => {
    const refused = (lines: string[]): string[] => parseTestScript(lines.join('\n')).builds.map((b) => b.expect);
    assert.deepEqual(refused(['if linuxkit build test.yml; then', '  echo "should have failed"', '  exit 1', 'fi']), [
      'refuse',
    ]);
    assert.deepEqual(refused(['if ! linuxkit build test.yml; then', '  echo failed', 'fi']), ['build']);
    assert.deepEqual(refused(['out=$(linuxkit build test.yml 2>&1 || echo FAILED)']), ['refuse']);
    assert.deepEqual(
      refused(['set +e', 'linuxkit build test.yml', 'retcode=$?', 'if [ $retcode -eq 0 ]; then', '  exit 1', 'fi']),
      ['refuse'],
    );
  });

  test('what it cannot read is reported, not guessed', () => {
    const { builds, unparsed } = parseTestScript(
      ['linuxkit build --frobnicate test.yml', 'linuxkit build ${UNSET}.yml', 'linuxkit build image.tar'].join('\n'),
    );
    assert.deepEqual(builds, []);
    assert.deepEqual(
      unparsed.map((u) => [u.line, u.why]),
      [
        [1, 'unknown flag --frobnicate'],
        [2, 'a system file names an unknown variable'],
        [3, 'argument "image.tar" is not a .yml file'],
      ],
    );
  });
});

describe('specDifferences', () => {
  test('mounts are matched by destination; order is one difference of its own', () => {
    const a = { destination: '/a', options: ['rw'] };
    const b = { destination: '/b', options: ['ro'] };
    assert.deepEqual(specDifferences({ mounts: [a, b] }, { mounts: [a, b] }), []);
    assert.deepEqual(specDifferences({ mounts: [a, b] }, { mounts: [b, a] }), [
      { path: 'mounts#order', expected: ['/a', '/b'], got: ['/b', '/a'] },
    ]);
    assert.deepEqual(specDifferences({ mounts: [a, b] }, { mounts: [a, { ...b, options: ['rw'] }] }), [
      { path: 'mounts[/b].options', expected: ['ro'], got: ['rw'] },
    ]);
    assert.deepEqual(specDifferences({ mounts: [a] }, { mounts: [a, b] }), [
      { path: 'mounts[/b]', expected: undefined, got: b },
    ]);
  });

  test('key order does not matter, values and array order do', () => {
    assert.deepEqual(specDifferences({ x: { a: 1, b: [1, 2] } }, { x: { b: [1, 2], a: 1 } }), []);
    assert.deepEqual(specDifferences({ x: { b: [1, 2] } }, { x: { b: [2, 1] } }), [
      { path: 'x.b', expected: [1, 2], got: [2, 1] },
    ]);
  });
});

describe('deviations', () => {
  const config = { dir: 'onboot/001-b', file: 'config' } as const;
  const id = (path: string, expected: unknown, got: unknown): string | undefined =>
    classify({ path, expected, got }, config)?.id;

  test('each rule explains its difference and nothing near it', () => {
    assert.equal(id('mounts[/var].options', ['rshared', 'rbind', 'rbind'], ['rshared', 'rbind']), 'rbind-once');
    assert.equal(
      id('mounts[/var].options', ['rshared', 'rbind'], ['rshared']),
      undefined,
      'an option lost is not rbind-once',
    );
    assert.equal(id('mounts[/v].source', 'vola', '/containers/volumes/vola/merged'), 'volume-mount-source');
    assert.equal(id('mounts[/v].source', 'vola', '/containers/volumes/volb/merged'), undefined);
    assert.equal(id('mounts[/v].options', undefined, ['rw', 'rbind', 'rshared']), 'volume-mount-source');
    assert.equal(id('mounts[/v].options', undefined, ['ro']), undefined);
    assert.equal(id('process.args', ['/usr/bin/format', ''], ['/usr/bin/format', '@DEVICE@']), 'at-scalars');
    assert.equal(id('process.args', ['/usr/bin/format', ''], ['/usr/bin/format', 'DEVICE']), undefined);
    assert.equal(id('process.args', ['x'], ['x', '@y']), undefined);
  });
});

describe('the committed corpus', () => {
  test('every build names existing system files, and every system file is used', async () => {
    const builds = await readCorpusBuilds();
    const used = new Set(builds.flatMap((b) => b.files));
    const present = new Set(await listFiles(corpusDir('systems')));
    assert.deepEqual(
      [...used].filter((f) => !present.has(f)),
      [],
    );
    assert.deepEqual(
      [...present].filter((f) => !used.has(f)),
      [],
    );
    assert.deepEqual(
      builds.map((b) => b.id),
      [...new Set(builds.map((b) => b.id))].sort(),
      'ids unique and sorted',
    );
  });

  test("each build has LinuxKit's answer, which refuses exactly the builds expected to be refused", async () => {
    const builds = await readCorpusBuilds();
    const expected = (await readdir(corpusDir('expected'))).sort();
    assert.deepEqual(expected, builds.map((b) => `${b.id.replaceAll('/', '__')}.json`).sort());
    for (const b of builds) {
      const e = JSON.parse(await readFile(corpusDir('expected', `${b.id.replaceAll('/', '__')}.json`), 'utf8')) as {
        id: string;
        files: string[];
        ok: boolean;
      };
      assert.deepEqual([e.id, e.files, e.ok], [b.id, b.files, b.expect === 'build'], b.id);
    }
    assert.deepEqual(
      builds.filter((b) => b.expect === 'refuse').map((b) => b.id),
      [
        'examples/static-ip',
        'test/cases/000_build/070_volumes/002_rw_on_ro',
        'test/cases/000_build/091_validate_linuxkit_yaml',
      ],
    );
  });

  test('every image a built container uses is in images.json, with the label its package gives it', async () => {
    const { linuxkitCommit, images } = await readCorpusImages();
    assert.match(linuxkitCommit, /^[0-9a-f]{40}$/);
    assert.ok((await readFile(corpusDir('README.md'), 'utf8')).includes(linuxkitCommit), 'the README cites the commit');
    const labels = (
      JSON.parse(await readFile(corpusDir('labels.json'), 'utf8')) as { labels: Record<string, { label: string }> }
    ).labels;
    for (const [ref, record] of Object.entries(images)) {
      const got = record.config.Labels?.['org.mobyproject.config'];
      const fromBuildYml = record.package === null ? undefined : labels[record.package]?.label;
      // Without a build.yml `config:`, a package's label is the one its Dockerfile sets with LABEL, if any.
      if (fromBuildYml !== undefined) assert.equal(got, fromBuildYml, ref);
      else if (got !== undefined) assert.doesNotThrow(() => JSON.parse(got), ref);
    }
    assert.equal(
      images['linuxkit/format:4f779c0b0d0ba145b7f03211b5cbf59fbbe12e54']?.config.Labels?.['org.mobyproject.config'],
      labels['pkg/format']?.label,
    );
    for (const name of await readdir(corpusDir('expected'))) {
      const e = JSON.parse(await readFile(corpusDir('expected', name), 'utf8')) as { containers?: { image: string }[] };
      for (const c of e.containers ?? []) assert.ok(c.image in images, `${name}: ${c.image}`);
    }
  });
});

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name)).split('\\').join('/'));
}
