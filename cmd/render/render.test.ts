// Progress and error rendering: modes, lines, JSON shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, LkvolError, type BuildEvent } from '../../lib/index.js';
import { renderErrorJson, renderErrorText } from './errors.js';
import { chooseProgressMode, createProgress, size } from './progress.js';

const modes = [
  {
    name: 'a TTY gets the status line',
    o: { progress: undefined, json: false, quiet: false, isTTY: true, ci: false },
    want: 'tty',
  },
  {
    name: 'not a TTY gets plain lines',
    o: { progress: undefined, json: false, quiet: false, isTTY: false, ci: false },
    want: 'plain',
  },
  {
    name: 'CI gets plain lines on a TTY',
    o: { progress: undefined, json: false, quiet: false, isTTY: true, ci: true },
    want: 'plain',
  },
  {
    name: '--json gets NDJSON',
    o: { progress: undefined, json: true, quiet: false, isTTY: true, ci: false },
    want: 'json',
  },
  {
    name: '-q wins over everything',
    o: { progress: 'plain', json: true, quiet: true, isTTY: true, ci: false },
    want: 'none',
  },
  { name: '--progress none', o: { progress: 'none', json: false, quiet: false, isTTY: true, ci: false }, want: 'none' },
  {
    name: '--progress plain on a TTY',
    o: { progress: 'plain', json: false, quiet: false, isTTY: true, ci: false },
    want: 'plain',
  },
];
for (const c of modes) test(`progress mode: ${c.name}`, () => assert.equal(chooseProgressMode(c.o), c.want));

const events: BuildEvent[] = [
  { kind: 'resolve', image: 'r/x:1', digest: `sha256:${'a'.repeat(64)}` },
  { kind: 'blob-progress', digest: `sha256:${'b'.repeat(64)}`, bytes: 10, size: 20 },
  { kind: 'blob-done', digest: `sha256:${'b'.repeat(64)}`, size: 2048, cached: false },
  { kind: 'blob-done', digest: `sha256:${'c'.repeat(64)}`, size: 2048, cached: true },
  { kind: 'warning', code: 'LKVOL_WARN_PLATFORM', message: 'careful' },
];

function render(
  mode: Parameters<typeof createProgress>[0],
  list: readonly BuildEvent[] = events,
  now?: () => number,
): string {
  let text = '';
  const sink = createProgress(mode, { write: (s: string) => (text += s) }, now === undefined ? {} : { now });
  for (const e of list) sink(e);
  sink.finish();
  return text;
}

test('plain progress: one line per event worth reading, no status line, cached blobs silent', () => {
  assert.equal(
    render('plain'),
    `resolved r/x:1 → sha256:aaaaaaaaaaaa\npulled sha256:bbbbbbbbbbbb (2.0 KiB)\nwarning: careful (LKVOL_WARN_PLATFORM)\n`,
  );
});

test('json progress: one object per event, its kind in one `event` field', () => {
  const lines = render('json')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((l) => l['event']),
    ['resolve', 'blob-progress', 'blob-done', 'blob-done', 'warning'],
  );
  assert.ok(lines.every((l) => !('kind' in l)));
  assert.deepEqual(lines[0], { event: 'resolve', image: 'r/x:1', digest: `sha256:${'a'.repeat(64)}` });
});

test('json progress is throttled per blob: at most one byte count per 250 ms, the last one always', () => {
  const d = (c: string) => `sha256:${c.repeat(64)}`;
  let t = 0;
  const list: BuildEvent[] = [];
  // 100 chunks of each of two blobs over 1 s, interleaved, then done.
  for (let i = 1; i <= 100; i++)
    for (const c of ['a', 'b']) list.push({ kind: 'blob-progress', digest: d(c), bytes: i * 10, size: 1000 });
  list.push({ kind: 'blob-done', digest: d('a'), size: 1000, cached: false });
  const times = list.map((_, i) => Math.floor(i / 2) * 10);
  const out = render('json', list, () => times[t++] ?? 0)
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; digest: string; bytes?: number });
  const progress = (c: string) =>
    out.filter((l) => l.event === 'blob-progress' && l.digest === d(c)).map((l) => l.bytes);
  assert.deepEqual(progress('a'), [10, 260, 510, 760, 1000]);
  assert.deepEqual(progress('b'), [10, 260, 510, 760, 1000]);
  assert.equal(out.at(-1)?.event, 'blob-done', 'state changes are never dropped');
});

test('-q (none): no progress, but warnings still', () => {
  assert.equal(render('none'), 'warning: careful (LKVOL_WARN_PLATFORM)\n');
});

test('sizes', () => {
  assert.deepEqual([0, 1023, 1024, 5 * 1024 * 1024, 3 * 1024 ** 3].map(size), [
    '0 B',
    '1023 B',
    '1.0 KiB',
    '5.0 MiB',
    '3.0 GiB',
  ]);
});

test('error text: message, code, hint; causes only with --debug', () => {
  const err = new LkvolError('LKVOL_IO', 'write x: ENOSPC', { hint: 'free some space', cause: new Error('inner') });
  assert.equal(renderErrorText(err, { debug: false }), 'lkvol: write x: ENOSPC (LKVOL_IO)\nhint: free some space\n');
  assert.match(renderErrorText(err, { debug: true }), /caused by: Error: inner/);
});

test('error text of a config error: one line per issue', () => {
  const err = new ConfigError('LKVOL_CONFIG_INVALID', [
    { file: 'a.yml', line: 1, column: 3, path: 'volumes[0].name', message: 'bad' },
    { file: 'a.yml', line: 4, column: 1, path: '', message: 'worse' },
  ]);
  assert.equal(
    renderErrorText(err, { debug: false }).split('\n').slice(0, 2).join('\n'),
    'lkvol: a.yml:1:3: volumes[0].name: bad\nlkvol: a.yml:4:1: worse (LKVOL_CONFIG_INVALID)',
  );
});

test('a foreign error renders as LKVOL_INTERNAL asking for a report', () => {
  assert.match(
    renderErrorText(new TypeError('x is undefined'), { debug: false }),
    /^lkvol: x is undefined \(LKVOL_INTERNAL\)\nhint: this is a bug/,
  );
  assert.deepEqual(JSON.parse(renderErrorJson(new LkvolError('LKVOL_USAGE', 'u'))), {
    ok: false,
    error: { code: 'LKVOL_USAGE', message: 'u', hint: null, exitCode: 2 },
  });
});

test('an error with context: the text starts with it, the JSON lists it', () => {
  const err = new LkvolError('LKVOL_LAYER_CORRUPT', 'layer sha256:1: bad header', { hint: 'h' })
    .addContext('image r/x:1')
    .addContext('volume "data"');
  assert.equal(
    renderErrorText(err, { debug: false }),
    'lkvol: volume "data": image r/x:1: layer sha256:1: bad header (LKVOL_LAYER_CORRUPT)\nhint: h\n',
  );
  assert.deepEqual(JSON.parse(renderErrorJson(err)), {
    ok: false,
    error: {
      code: 'LKVOL_LAYER_CORRUPT',
      message: 'volume "data": image r/x:1: layer sha256:1: bad header',
      hint: 'h',
      exitCode: 1,
      context: ['volume "data"', 'image r/x:1'],
    },
  });
});

test('a build ends with a summary: each tree, what was fetched, the time, and what was not built', () => {
  const d = (c: string) => `sha256:${c.repeat(64)}`;
  const list: BuildEvent[] = [
    { kind: 'ignored', section: 'kernel' },
    { kind: 'ignored', section: 'init' },
    { kind: 'volume-start', volume: 'blank', image: undefined },
    { kind: 'volume-done', volume: 'blank', files: 0, bytes: 0, reused: false },
    { kind: 'volume-start', volume: 'data', image: 'r/data:1' },
    { kind: 'blob-done', digest: d('a'), size: 3 * 1024 * 1024, cached: false },
    { kind: 'blob-done', digest: d('b'), size: 10, cached: true },
    { kind: 'volume-done', volume: 'data', files: 12, bytes: 2048, reused: false },
    { kind: 'volume-done', volume: 'old', files: 3, bytes: 10, reused: true },
    { kind: 'done', out: '/o' },
  ];
  let t = 0;
  const text = render('plain', list, () => (t++ === 0 ? 0 : 2500));
  assert.equal(
    text.slice(text.indexOf('built /o\n')),
    [
      'built /o',
      '  volume blank: blank',
      '  volume data: extracted 12 files, 2.0 KiB',
      '  volume old: reused 3 files, 10 B',
      '  downloaded 1 blobs (3.0 MiB), 1 from the cache; 2.5 s',
      "  not built: kernel, init (LinuxKit's image sections; lkvol builds volumes and container specs)",
      '  not unpacked: container images (pass --rootfs for bundles that run)',
      '',
    ].join('\n'),
  );
});

test("the summary says where each tree's layers came from", () => {
  const d = (c: string) => `sha256:${c.repeat(64)}`;
  const list: BuildEvent[] = [
    { kind: 'layer-start', volume: 'a', digest: d('1'), index: 0, count: 1 },
    { kind: 'blob-done', digest: d('1'), size: 10, cached: true },
    { kind: 'volume-done', volume: 'a', files: 1, bytes: 10, reused: false },
    { kind: 'layer-start', volume: 'b', digest: d('2'), index: 0, count: 2 },
    { kind: 'layer-start', volume: 'b', digest: d('3'), index: 1, count: 2 },
    { kind: 'blob-done', digest: d('2'), size: 10, cached: true },
    { kind: 'blob-done', digest: d('3'), size: 10, cached: false },
    { kind: 'volume-done', volume: 'b', files: 2, bytes: 20, reused: false },
    { kind: 'layer-start', bundle: 'containers/services/s', digest: d('4'), index: 0, count: 1 },
    { kind: 'blob-done', digest: d('4'), size: 10, cached: false },
    { kind: 'rootfs-done', bundle: 'containers/services/s', files: 1, bytes: 10, reused: false },
    { kind: 'done', out: '/o' },
  ];
  const lines = render('plain', list).split('\n');
  assert.ok(lines.includes('  volume a: extracted 1 files, 10 B, from the cache'), lines.join('\n'));
  assert.ok(lines.includes('  volume b: extracted 2 files, 20 B, partly from the cache'));
  assert.ok(lines.includes('  containers/services/s: extracted 1 files, 10 B, downloaded'));
});

test('blobs copied from a local layout or archive are said to be copied, not pulled or downloaded', () => {
  const d = (c: string) => `sha256:${c.repeat(64)}`;
  const list: BuildEvent[] = [
    { kind: 'layer-start', volume: 'a', digest: d('1'), index: 0, count: 1 },
    { kind: 'blob-start', digest: d('1'), size: 4096, cached: false, from: 'oci-layout:images/site' },
    { kind: 'blob-done', digest: d('1'), size: 4096, cached: false, from: 'oci-layout:images/site' },
    { kind: 'volume-done', volume: 'a', files: 1, bytes: 10, reused: false },
    { kind: 'layer-start', volume: 'b', digest: d('2'), index: 0, count: 2 },
    { kind: 'layer-start', volume: 'b', digest: d('3'), index: 1, count: 2 },
    { kind: 'blob-done', digest: d('2'), size: 10, cached: false, from: 'docker-archive:app.tar' },
    { kind: 'blob-done', digest: d('3'), size: 10, cached: false },
    { kind: 'volume-done', volume: 'b', files: 2, bytes: 20, reused: false },
    { kind: 'done', out: '/o' },
  ];
  const lines = render('plain', list).split('\n');
  assert.ok(lines.includes(`copied ${d('1').slice(0, 19)} (4.0 KiB) from oci-layout:images/site`), lines.join('\n'));
  assert.ok(lines.includes('  volume a: extracted 1 files, 10 B, copied from a local image'), lines.join('\n'));
  assert.ok(lines.includes('  volume b: extracted 2 files, 20 B, downloaded and copied'), lines.join('\n'));
  assert.ok(
    lines.some((l) =>
      l.startsWith('  downloaded 1 blobs (10 B), 0 from the cache, 2 copied from local images (4.0 KiB); '),
    ),
    lines.join('\n'),
  );
});
