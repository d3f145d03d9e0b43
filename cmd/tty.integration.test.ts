// The TTY progress for real: the built CLI in a tmux pane (its own server), against a real registry; the pane as a
// person sees it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pushTarImage } from '../lib/internal/testing/images.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { useRegistry } from '../lib/internal/testing/use-registry.js';

const cli = fileURLToPath(new URL('./lkvol.js', import.meta.url));
const socket = `lkvol-test-${process.pid}`;
const suite = useRegistry({ name: 'tty' });

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args[0] ?? ''}: ${r.stderr}`);
  return r.stdout;
}

suite.before(async () => {
  assert.equal(
    spawnSync('sh', ['-c', 'command -v tmux']).status,
    0,
    'this test needs tmux (apt-get install tmux; make test installs it)',
  );
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'tty/data',
    tag: '1',
    layers: [[{ name: 'big', content: randomBytes(3 << 20) }], [{ name: 'small', content: 'x' }]],
  });
});

// The panes run builds in the work directory: end them before it is removed.
suite.onTeardown(() => spawnSync('tmux', ['-L', socket, 'kill-server']));

test('under tmux: layer rows with their states, the overall line, the summary, and the cursor shown again', async () => {
  const file = join(suite.work, 'system.yml');
  await writeFile(file, `volumes:\n  - name: v\n    image: ${suite.registry.host}/tty/data:1\n`);
  const out = join(suite.work, 'out');
  const build = `${process.execPath} ${cli} build --cache ${join(suite.work, 'cache')} --platform linux/amd64`;
  const command = `env -u CI NO_COLOR=1 ${build} -o ${out} ${file}; echo EXIT=$?; sleep 60`;
  tmux('new-session', '-d', '-x', '100', '-y', '30', '-s', 'build', command);
  let pane = '';
  for (let i = 0; i < 200 && !/EXIT=\d+/.test(pane); i++) {
    await sleep(100);
    pane = tmux('capture-pane', '-p', '-t', 'build');
  }
  const lines = pane.split('\n').map((l) => l.trimEnd());
  assert.ok(lines.includes('EXIT=0'), pane);
  const rows = lines.filter((l) => /^[0-9a-f]{12} \[=+\] .* done$/.test(l));
  assert.equal(rows.length, 2, `two layer rows, both done:\n${pane}`);
  assert.ok(
    lines.some((l) => /^downloaded 3\.0 MiB\/3\.0 MiB at .*\/s$/.test(l)),
    pane,
  );
  assert.ok(lines.includes(`built ${out}`), pane);
  assert.ok(
    lines.some((l) => /^ {2}volume v: extracted 2 files, 3\.0 MiB, downloaded$/.test(l)),
    pane,
  );
  assert.doesNotMatch(pane, /\x1b|\[\d+A|\[\?25/, 'no escape sequence shows');
  assert.equal(tmux('display-message', '-p', '-t', 'build', '#{cursor_flag}').trim(), '1', 'the cursor is visible');
});

test('under tmux: -o - refuses to write a tar to the terminal', async () => {
  const file = join(suite.work, 'system.yml');
  await writeFile(file, `volumes:\n  - name: v\n    image: ${suite.registry.host}/tty/data:1\n`);
  tmux(
    'new-session',
    '-d',
    '-x',
    '120',
    '-y',
    '10',
    '-s',
    'stdout',
    `${process.execPath} ${cli} build --cache ${join(suite.work, 'cache')} -o - ${file}; echo EXIT=$?; sleep 60`,
  );
  let pane = '';
  for (let i = 0; i < 100 && !/EXIT=\d+/.test(pane); i++) {
    await sleep(100);
    pane = tmux('capture-pane', '-p', '-t', 'stdout');
  }
  assert.match(pane, /lkvol: build: -o -: refusing to write a tar to a terminal \(LKVOL_USAGE\)/);
  assert.match(pane, /EXIT=2/);
});
