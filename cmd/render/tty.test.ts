// The TTY progress on a fake terminal of fixed width: golden frames (UPDATE_GOLDEN=1 rewrites), redraw rate, narrow
// widths, the cursor.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { test } from 'node:test';
import type { BuildEvent } from '../../lib/index.js';
import { renderScreen } from '../../lib/internal/testing/screen.js';
import { testdataPath } from '../../lib/internal/testing/testdata.js';
import { createProgress } from './progress.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const MiB = 1024 * 1024;

/** A terminal driven by a manual clock: scheduled redraws run when time passes them. */
function fakeTerminal(columns: number, color = false) {
  let now = 0;
  let out = '';
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const sink = createProgress(
    'tty',
    { write: (s: string) => (out += s) },
    {
      now: () => now,
      columns: () => columns,
      color,
      rootfs: false,
      schedule: (fn, ms) => {
        const t = { at: now + ms, fn, cancelled: false };
        timers.push(t);
        return { cancel: () => void (t.cancelled = true) };
      },
    },
  );
  return {
    sink,
    advance(ms: number) {
      now += ms;
      for (const t of timers.filter((x) => !x.cancelled && x.at <= now)) {
        t.cancelled = true;
        t.fn();
      }
    },
    screen: () => renderScreen(out, columns),
    written: () => out,
  };
}

/** Two volumes: one layer of 8 MiB downloading in steps, one cached layer; extraction follows. */
function run(t: ReturnType<typeof fakeTerminal>): Record<string, string[]> {
  const frames: Record<string, string[]> = {};
  const e = (ev: BuildEvent) => t.sink(ev);
  e({ kind: 'resolve', image: 'registry.example/site:1', digest: d('1') });
  e({ kind: 'volume-start', volume: 'site', image: 'registry.example/site:1' });
  e({ kind: 'blob-start', digest: d('a'), size: 8 * MiB, cached: false });
  e({ kind: 'blob-start', digest: d('b'), size: 1024, cached: true });
  e({ kind: 'layer-start', volume: 'site', digest: d('a'), index: 0, count: 2 });
  for (let i = 1; i <= 4; i++) {
    t.advance(50);
    e({ kind: 'blob-progress', digest: d('a'), bytes: i * MiB, size: 8 * MiB });
  }
  t.advance(100);
  frames['downloading'] = t.screen().lines;
  for (let i = 5; i <= 8; i++) {
    t.advance(50);
    e({ kind: 'blob-progress', digest: d('a'), bytes: i * MiB, size: 8 * MiB });
  }
  e({ kind: 'blob-done', digest: d('a'), size: 8 * MiB, cached: false });
  e({ kind: 'layer-progress', volume: 'site', digest: d('a'), entries: 512, bytes: 5 * MiB });
  t.advance(100);
  frames['extracting'] = t.screen().lines;
  e({ kind: 'layer-applied', volume: 'site', digest: d('a'), index: 0, count: 2 });
  e({ kind: 'layer-start', volume: 'site', digest: d('b'), index: 1, count: 2 });
  e({ kind: 'layer-applied', volume: 'site', digest: d('b'), index: 1, count: 2 });
  e({ kind: 'volume-done', volume: 'site', files: 12, bytes: 9 * MiB, reused: false });
  e({ kind: 'warning', code: 'LKVOL_WARN_PLATFORM', message: 'careful' });
  t.advance(100);
  e({ kind: 'done', out: '/out' });
  t.sink.finish();
  frames['done'] = t.screen().lines;
  return frames;
}

async function golden(name: string, lines: string[]): Promise<void> {
  const path = testdataPath('render', `${name}.txt`);
  const text = `${lines.join('\n')}\n`;
  if (process.env['UPDATE_GOLDEN'] === '1') {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }
  assert.equal(text, await readFile(path, 'utf8'), name);
}

test('80 columns: layer rows with bars and states, the overall line, log lines above, the summary below', async () => {
  const t = fakeTerminal(80);
  const frames = run(t);
  for (const [name, lines] of Object.entries(frames)) await golden(`tty-80-${name}`, lines);
  assert.equal(t.screen().cursorVisible, true, 'the cursor is shown again');
});

test('a narrow terminal: every line is cut to its width, so nothing wraps and the frame redraws in place', async () => {
  const t = fakeTerminal(40);
  const frames = run(t);
  for (const [name, lines] of Object.entries(frames)) {
    await golden(`tty-40-${name}`, lines);
    assert.ok(
      lines.every((l) => l.length <= 40),
      `${name}: ${lines.join('|')}`,
    );
  }
});

test('at most 10 redraws a second, however many events arrive', () => {
  const t = fakeTerminal(80);
  t.sink({ kind: 'blob-start', digest: d('a'), size: 100 * MiB, cached: false });
  for (let i = 1; i <= 1000; i++) {
    t.sink({ kind: 'blob-progress', digest: d('a'), bytes: i * 100 * 1024, size: 100 * MiB });
    t.advance(1);
  }
  // One frame per redraw: each starts by moving the cursor back up over the previous one.
  const redraws = (t.written().match(/\x1b\[\d+A/g) ?? []).length;
  assert.ok(redraws >= 8 && redraws <= 11, `${redraws} redraws in 1 s`);
});

test('colour on a colour terminal only: the state words, reset after each', () => {
  const plain = fakeTerminal(80);
  run(plain);
  assert.doesNotMatch(plain.written(), /\x1b\[\d+m/);
  const coloured = fakeTerminal(80, true);
  run(coloured);
  assert.match(coloured.written(), /\x1b\[32mdone\x1b\[0m/);
  assert.deepEqual(
    renderScreen(coloured.written(), 80).lines,
    renderScreen(plain.written(), 80).lines,
    'the same text',
  );
});

test('finish shows the cursor even when the build never got to done (Ctrl-C)', () => {
  const t = fakeTerminal(80);
  t.sink({ kind: 'blob-start', digest: d('a'), size: MiB, cached: false });
  t.advance(200);
  assert.equal(t.screen().cursorVisible, false, 'hidden while the frame is drawn');
  t.sink.finish();
  assert.equal(t.screen().cursorVisible, true);
});

test('nothing is drawn after the end: a redraw scheduled before a log line or the summary is cancelled', () => {
  const t = fakeTerminal(80);
  t.sink({ kind: 'blob-start', digest: d('a'), size: MiB, cached: false });
  t.sink({ kind: 'blob-progress', digest: d('a'), bytes: 10, size: MiB });
  t.sink({ kind: 'warning', code: 'LKVOL_WARN_PLATFORM', message: 'drawn directly, with a redraw still scheduled' });
  t.sink({ kind: 'done', out: '/out' });
  t.sink.finish();
  const before = t.written();
  t.advance(1000);
  assert.equal(t.written(), before);
  assert.equal(t.screen().lines.at(-1), '  not unpacked: container images (pass --rootfs for bundles that run)');
});

test('a layer copied from a local image reads "copying", not "downloading"', () => {
  const t = fakeTerminal(100);
  t.sink({ kind: 'volume-start', volume: 'site', image: 'oci-layout:images/site' });
  t.sink({ kind: 'blob-start', digest: d('a'), size: 8 * MiB, cached: false, from: 'oci-layout:images/site' });
  t.sink({ kind: 'blob-progress', digest: d('a'), bytes: 2 * MiB, size: 8 * MiB });
  t.advance(200);
  assert.ok(
    t.screen().lines.some((l) => l.startsWith('aaaaaaaaaaaa') && l.endsWith('copying')),
    t.screen().lines.join('\n'),
  );
  t.sink({ kind: 'layer-start', volume: 'site', digest: d('a'), index: 0, count: 1 });
  t.advance(200);
  assert.ok(
    t.screen().lines.some((l) => l.includes('copying, extracting')),
    t.screen().lines.join('\n'),
  );
  assert.ok(!t.screen().lines.some((l) => l.includes('downloading')));
  t.sink.finish();
});
