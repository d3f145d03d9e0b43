// Tests of the shell that makes a layer's device nodes and FIFOs: exact names whatever they hold, mknod's own
// messages on failure, one shell per layer that ends with it.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { NodeMaker } from './special.js';

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'lkvol-special-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Pids of this process's live `sh` children. */
function shellChildren(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid …: comm may hold spaces, so split after its closing parenthesis.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (comm === 'sh' && state !== 'Z' && Number(ppid) === process.pid) out.push(Number(name));
  }
  return out;
}

test('FIFOs whose names hold quotes, newlines, $(…), globs and the marker format are made under exactly those names', async (t) => {
  const dir = scratch(t);
  const nodes = new NodeMaker();
  t.after(() => nodes.close());
  const names = [
    "it's",
    'a b\nc',
    '$(touch pwned)',
    '`touch pwned2`; touch pwned3',
    '*',
    "'\\''",
    '\n0123456789abcdef 0\n',
    '-m',
  ];
  for (const name of names) assert.equal(await nodes.mknod([join(dir, name), 'p']), undefined, name);
  assert.deepEqual(readdirSync(dir).sort(), [...names].sort());
  for (const name of names) assert.ok(lstatSync(join(dir, name)).isFIFO(), name);
  for (const planted of ['pwned', 'pwned2', 'pwned3']) assert.equal(existsSync(planted), false);
});

test("a refused mknod returns mknod's message naming the path; the next one still works", async (t) => {
  const dir = scratch(t);
  const nodes = new NodeMaker();
  t.after(() => nodes.close());
  const missing = join(dir, 'no-such-dir', 'p');
  const said = await nodes.mknod([missing, 'p']);
  assert.match(said ?? '', /No such file or directory/);
  assert.ok(said?.includes(missing), said);
  assert.match((await nodes.mknod([join(dir, 'p'), 'p'])) ?? '', /^$/);
  assert.match((await nodes.mknod([join(dir, 'p'), 'p'])) ?? '', /File exists/);
  // Calls made together run one after another, each with its own answer.
  const together = await Promise.all([nodes.mknod([join(dir, 'q'), 'p']), nodes.mknod([missing, 'p'])]);
  assert.equal(together[0], undefined);
  assert.match(together[1] ?? '', /No such file or directory/);
});

test('one shell serves every node of a layer and is gone after close; none starts without a node', async (t) => {
  const dir = scratch(t);
  const before = shellChildren();
  const idle = new NodeMaker();
  idle.close();
  const nodes = new NodeMaker();
  for (let i = 0; i < 5; i++) await nodes.mknod([join(dir, `f${i}`), 'p']);
  const during = shellChildren().filter((p) => !before.includes(p));
  assert.equal(during.length, 1, `shells: ${during.join(' ')}`);
  nodes.close();
  for (let i = 0; i < 100 && shellChildren().includes(during[0]!); i++) await sleep(20);
  assert.deepEqual(
    shellChildren().filter((p) => !before.includes(p)),
    [],
  );
});
