// Crash safety: the real CLI killed with SIGKILL at every stage, and concurrent builds on one cache and one OUT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from './index.js';
import { recoverOutput } from './output.js';
import { startFaultProxy } from '../internal/testing/fault-proxy.js';
import { pushTarImage } from '../internal/testing/images.js';
import { startHttpServer } from '../internal/testing/registry.js';
import type { TarEntry } from '../internal/testing/tar.js';
import { describeTree, walkTree } from '../internal/testing/tree.js';
import { useRegistry } from '../internal/testing/use-registry.js';

// The third promise of issue 3 item 7, a blob corrupted in the cache being detected and fetched
// again, is proven in build.integration.test.ts ("a corrupted cached blob is detected and fetched again").
const bin = fileURLToPath(new URL('../../cmd/lkvol.js', import.meta.url));
const isRoot = process.getuid?.() === 0;
/** Enough files that extracting, and removing the previous OUT after the swap, take a while for kills to land in. */
const files = (dir: string): TarEntry[] => [
  { name: `${dir}/`, type: 'dir' },
  ...Array.from({ length: 120 }, (_, i) => ({ name: `${dir}/${i}`, content: `${dir} ${i}` })),
];
const suite = useRegistry({ name: 'crash' });
let newLayers: string[];
const trees: Record<'old' | 'new', string[]> = { old: [], new: [] };
const children = new Set<ChildProcess>();

suite.before(async () => {
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'crash/app',
    tag: 'old',
    layers: [[{ name: 'version', content: 'old' }, ...files('f')]],
  });
  newLayers = (
    await pushTarImage({
      registry: suite.registry.host,
      repository: 'crash/app',
      tag: 'new',
      layers: [[{ name: 'version', content: 'new' }, ...files('g')], [{ name: 'extra', content: 'x' }]],
    })
  ).layerDigests;
  for (const tag of ['old', 'new'] as const) trees[tag] = await tree((await buildIn('reference', tag)).out);
});

// Builds still running write into the work directory: kill them before it is removed.
suite.onTeardown(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** `dir/<tag>.yml`: one volume seeded from crash/app:<tag> on `host` (the registry, or a proxy in front of it). */
async function system(dir: string, tag: string, host = suite.registry.host): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${tag}.yml`);
  await writeFile(file, `volumes:\n  - name: v\n    image: ${host}/crash/app:${tag}\n`);
  return file;
}

/** Builds in this process: `work/<name>/out`, cache `work/<name>/cache`. */
async function buildIn(name: string, tag: string, out = join(suite.work, name, 'out')): Promise<{ out: string }> {
  return build({
    files: [await system(join(suite.work, name), tag)],
    out,
    cacheDir: join(suite.work, name, 'cache'),
    platform: 'linux/amd64',
    applyOwnership: isRoot,
  });
}

async function tree(out: string): Promise<string[]> {
  return describeTree(await walkTree(out, { includeRoot: true }));
}

/**
 * Which complete tree OUT holds: 'old', 'new', 'missing', or 'partial' (never acceptable). Without
 * `linkCounts`, files are compared without their hard-link groups.
 */
async function stateOf(out: string, o: { linkCounts: boolean } = { linkCounts: true }): Promise<string> {
  const got = await tree(out).catch((err: NodeJS.ErrnoException) =>
    err.code === 'ENOENT' ? 'missing' : Promise.reject(err),
  );
  if (got === 'missing') return got;
  const norm = (lines: string[]) => JSON.stringify(o.linkCounts ? lines : lines.map((l) => l.replace(/ #.*$/, '')));
  return (['old', 'new'] as const).find((k) => norm(got) === norm(trees[k])) ?? 'partial';
}

/** Spawns the real CLI; `exited` resolves to its exit code (null when killed), `waitFor` when stderr matches. */
function spawnBuild(args: string[]): {
  child: ChildProcess;
  exited: Promise<number | null>;
  waitFor(re: RegExp): Promise<void>;
} {
  const child = spawn(process.execPath, [bin, 'build', '--progress', 'plain', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then(() => children.delete(child));
  const waitFor = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => (re.test(stderr) ? resolve() : undefined);
      child.stderr!.on('data', (c: Buffer) => void ((stderr += c.toString()), check()));
      void exited.then(() => reject(new Error(`exited before ${re}: ${stderr}`)));
    });
  return { child, exited, waitFor };
}

async function kill(run: { child: ChildProcess; exited: Promise<number | null> }): Promise<void> {
  run.child.kill('SIGKILL');
  await run.exited;
}

/** Leftovers beside OUT and in the cache's temp directory. */
async function leftovers(dir: string): Promise<{ out: string[]; tmp: string[] }> {
  const tmp = await readdir(join(dir, 'cache', 'v1', 'tmp')).catch(() => []);
  return { out: (await readdir(dir)).filter((n) => n.startsWith('.out.')), tmp };
}

/** Options of {@link killSweep}. */
interface KillSweep {
  /** OUT is `dir/out`, the cache `dir/cache`. */
  dir: string;
  files: Record<'old' | 'new', string>;
  /** Which tree OUT holds: 'old', 'new', or anything else. */
  state: () => Promise<string>;
  /** The kills' delays, as shares of the first build's time: from the first to the second, evenly. */
  delays: [number, number];
  /** Checks OUT as a kill left it (`current` is the tree before that build, `target` its own); says where it landed. */
  landed: (o: { raw: string; current: 'old' | 'new'; target: 'old' | 'new'; round: number }) => Promise<string>;
}

/**
 * Builds the old file into OUT, then rebuilds 8 times, each time into the other file's tree, killing
 * the CLI at increasing delays; after each kill, and recovery, OUT must be one of the two trees with
 * nothing beside it. Returns where the kills landed and the tree a next build would change OUT to.
 */
async function killSweep(o: KillSweep): Promise<{ landed: string[]; last: 'old' | 'new' }> {
  const [out, cache] = [join(o.dir, 'out'), join(o.dir, 'cache')];
  const started = performance.now();
  assert.equal(await spawnBuild(['-o', out, '--cache', cache, o.files.old]).exited, 0);
  const duration = performance.now() - started;
  let current: 'old' | 'new' = 'old';
  const landed: string[] = [];
  const rounds = 8;
  for (let round = 0; round < rounds; round++) {
    const target = current === 'old' ? 'new' : 'old';
    const run = spawnBuild(['-o', out, '--cache', cache, o.files[target]]);
    const [from, to] = o.delays;
    await new Promise((resolve) => setTimeout(resolve, duration * (from + ((to - from) * round) / (rounds - 1))));
    await kill(run);
    landed.push(await o.landed({ raw: await o.state(), current, target, round }));
    await recoverOutput(out);
    const now = await o.state();
    assert.ok(now === current || now === target, `round ${round}: after recovery OUT is ${now}`);
    assert.deepEqual((await leftovers(o.dir)).out, [], `round ${round}`);
    current = now as 'old' | 'new';
  }
  return { landed, last: current === 'old' ? 'new' : 'old' };
}

/** The next build after a kill: succeeds, gives the new tree, and leaves nothing behind. */
async function assertNextBuildCleans(name: string): Promise<void> {
  const { out } = await buildIn(name, 'new');
  assert.deepEqual(await tree(out), trees.new);
  assert.deepEqual(await leftovers(join(suite.work, name)), { out: [], tmp: [] });
}

/** A proxy on 127.0.0.1 that forwards everything but sends only half of one blob, then holds the connection. */
async function startHalfwayProxy(digest: string) {
  return startHttpServer((req, res) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
    fetch(`${suite.registry.url}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, redirect: 'manual' })
      .then(async (up) => {
        const body = Buffer.from(await up.arrayBuffer());
        const out: Record<string, string> = {};
        up.headers.forEach(
          (v, k) =>
            void (['content-encoding', 'transfer-encoding', 'connection'].includes(k) ? undefined : (out[k] = v)),
        );
        res.writeHead(up.status, out);
        if (req.method === 'GET' && (req.url ?? '').includes(digest)) res.write(body.subarray(0, body.length >> 1));
        else res.end(body);
      })
      .catch(() => res.destroy());
  });
}

test('SIGKILL mid-download keeps the previous OUT; the next build removes the staging dir and the temp blob', async () => {
  const dir = join(suite.work, 'download');
  await buildIn('download', 'old');
  const proxy = await startHalfwayProxy(newLayers[0]!);
  try {
    const tmp = join(dir, 'cache', 'v1', 'tmp');
    // The stalled layer's temp file appearing (fs.watch, not a timer) means it is half written to the
    // cache; the other layer's temp comes and goes, so match the name (it starts with the digest).
    const stalledTemp = (name: string | null) => name?.startsWith(newLayers[0]!.slice(7, 23)) === true;
    const tempCreated = new Promise<void>((resolve) => {
      const w = watch(tmp, (_event, name) => void (stalledTemp(name) && (w.close(), resolve())));
    });
    const run = spawnBuild([
      '-o',
      join(dir, 'out'),
      '--cache',
      join(dir, 'cache'),
      await system(dir, 'new', proxy.host),
    ]);
    await tempCreated;
    await kill(run);
    assert.equal(await stateOf(join(dir, 'out')), 'old');
    const left = await leftovers(dir);
    assert.equal(left.out.length, 1, 'the killed build left its staging directory');
    assert.ok(left.tmp.some(stalledTemp), 'the killed build left its temp blob');
  } finally {
    await proxy.close();
  }
  await assertNextBuildCleans('download');
});

test('SIGKILL mid-extraction (layer 1 applied, layer 2 stalled) keeps the previous OUT; the next build cleans up', async () => {
  const dir = join(suite.work, 'extract');
  await buildIn('extract', 'old');
  const proxy = await startFaultProxy(suite.registry.url, (req) =>
    (req.url ?? '').includes(newLayers[1]!) ? { kind: 'stall' } : { kind: 'pass' },
  );
  try {
    const run = spawnBuild([
      '-o',
      join(dir, 'out'),
      '--cache',
      join(dir, 'cache'),
      await system(dir, 'new', proxy.host),
    ]);
    // "layer 2/2" is printed when layer 2 starts, so layer 1 is applied by then.
    await run.waitFor(/volume v: layer 2\/2/);
    await kill(run);
    assert.equal(await stateOf(join(dir, 'out')), 'old');
    const [staging] = (await leftovers(dir)).out;
    assert.equal(
      await readFile(join(dir, staging!, 'containers/volumes/v/lower/version'), 'utf8'),
      'new',
      'the kill landed after layer 1 was applied',
    );
  } finally {
    await proxy.close();
  }
  await assertNextBuildCleans('extract');
});

test('SIGKILL at increasing delays through whole builds: OUT is always one complete tree, and recovery leaves nothing', async (t) => {
  const dir = join(suite.work, 'sweep');
  const [out, cache] = [join(dir, 'out'), join(dir, 'cache')];
  const files = { old: await system(dir, 'old'), new: await system(dir, 'new') };
  // From 50 % to 110 % of a build's time (node's start-up is the first third): resolve, extraction,
  // lkvol.json, the swap, removing the old tree, exit.
  const { landed, last } = await killSweep({
    dir,
    files,
    state: () => stateOf(out),
    delays: [0.5, 1.1],
    landed: async ({ raw, current, target, round }) => {
      if (raw === 'missing') {
        // Killed between the two renames of the swap: the previous tree waits, complete, beside OUT.
        const aside = (await leftovers(dir)).out.filter((n) => n.startsWith('.out.old-'));
        assert.deepEqual([aside.length, await stateOf(join(dir, aside[0]!))], [1, current], `round ${round}`);
        return 'between renames';
      }
      assert.ok(raw === current || raw === target, `round ${round}: OUT is ${raw}`);
      const aside = (await leftovers(dir)).out.some((n) => n.startsWith('.out.old-'));
      return raw === current ? 'before the swap' : aside ? 'while removing the old tree' : 'after';
    },
  });
  t.diagnostic(`kills landed: ${landed.join(', ')}`);
  assert.equal(await spawnBuild(['-o', out, '--cache', cache, files[last]]).exited, 0);
  assert.equal(await stateOf(out), last);
  assert.deepEqual(await leftovers(dir), { out: [], tmp: [] });
});

test('SIGKILL while a rebuild reuses the volume, after it did, and while it swaps: OUT is always complete, and nothing is left', async () => {
  const dir = join(suite.work, 'reuse-kill');
  const [out, cache] = [join(dir, 'out'), join(dir, 'cache')];
  const file = await system(dir, 'old');
  // A second, blank volume changes the output, so the unchanged volume is linked through staging.
  const changed = join(dir, 'changed.yml');
  await writeFile(changed, `${await readFile(file, 'utf8')}  - name: blank\n`);
  const changedOut = join(dir, 'reference');
  await build({ files: [changed], out: changedOut, cacheDir: cache, platform: 'linux/amd64', applyOwnership: isRoot });
  const complete = [JSON.stringify(trees.old), JSON.stringify(await tree(changedOut))].map((t) =>
    t.replace(/ #[^"]*/g, ''),
  );
  // A kill at any of these points leaves OUT the old tree or the new one, or, within the swap, missing with the
  // previous tree beside it (its volume maybe in staging, named by the journal); recovery makes it whole.
  for (const point of [/volume v: unpacking/, /volume v: unchanged, reused/, /volume blank: /]) {
    assert.equal(await spawnBuild(['-o', out, '--cache', cache, file]).exited, 0);
    const run = spawnBuild(['-o', out, '--cache', cache, changed]);
    await run.waitFor(point);
    await kill(run);
    const got = await tree(out).catch(() => undefined);
    if (got === undefined) {
      // Killed within the swap: the previous OUT is beside it, whole, or with the volume being moved into staging
      // and a journal saying so.
      const beside = (await leftovers(dir)).out;
      const aside = beside.filter((n) => n.startsWith('.out.old-'));
      assert.equal(aside.length, 1, `killed at ${point}`);
      const whole = await stateOf(join(dir, aside[0]!)).catch(() => undefined);
      assert.ok(whole === 'old' || beside.some((n) => n.startsWith('.out.adopt-')), `killed at ${point}: ${whole}`);
    } else {
      assert.ok(complete.includes(JSON.stringify(got).replace(/ #[^"]*/g, '')), `killed at ${point}: OUT is partial`);
    }
    await recoverOutput(out);
    assert.deepEqual((await leftovers(dir)).out, [], `killed at ${point}`);
    assert.ok(complete.includes(JSON.stringify(await tree(out))), `killed at ${point}: after recovery`);
  }
});

test('SIGKILL at increasing delays through rebuilds that move an unchanged volume: OUT is complete, or recovery makes it so', async (t) => {
  const dir = join(suite.work, 'adopt-sweep');
  const [out, cache] = [join(dir, 'out'), join(dir, 'cache')];
  // Volume "keep" is the same in both files, so every rebuild moves it from the previous OUT into the new one.
  const files: Record<'old' | 'new', string> = { old: join(dir, 'old.yml'), new: join(dir, 'new.yml') };
  await mkdir(dir, { recursive: true });
  const want: Record<string, string[]> = {};
  for (const tag of ['old', 'new'] as const) {
    const yaml = `volumes:\n  - name: keep\n    image: ${suite.registry.host}/crash/app:old\n`;
    await writeFile(files[tag], `${yaml}  - name: v\n    image: ${suite.registry.host}/crash/app:${tag}\n`);
    const reference = join(dir, `reference-${tag}`);
    await build({
      files: [files[tag]],
      out: reference,
      cacheDir: cache,
      platform: 'linux/amd64',
      applyOwnership: isRoot,
    });
    want[tag] = await tree(reference);
  }
  const state = async () => {
    const got = await tree(out).catch((err: NodeJS.ErrnoException) =>
      err.code === 'ENOENT' ? undefined : Promise.reject(err),
    );
    if (got === undefined) return 'missing';
    return Object.keys(want).find((k) => JSON.stringify(got) === JSON.stringify(want[k])) ?? 'partial';
  };
  const { landed, last } = await killSweep({
    dir,
    files,
    state,
    delays: [0.4, 1.2],
    landed: async ({ raw, current, target, round }) => {
      const beside = (await leftovers(dir)).out;
      if (raw === 'missing') {
        // Killed within the swap: the previous OUT waits beside it; if "keep" is already in staging, the journal
        // says so.
        assert.ok(
          beside.some((n) => n.startsWith('.out.old-')),
          `round ${round}: OUT missing`,
        );
        return beside.some((n) => n.startsWith('.out.adopt-')) ? 'while moving' : 'between renames';
      }
      // Never a tree with "keep" missing: OUT is the previous tree or the new one.
      assert.ok(raw === current || raw === target, `round ${round}: OUT is ${raw}`);
      return `OUT ${raw}`;
    },
  });
  t.diagnostic(`kills landed: ${landed.join(', ')}`);
  const keep = join(out, 'containers/volumes/keep/lower');
  const before = (await stat(keep)).ino;
  assert.equal(await spawnBuild(['-o', out, '--cache', cache, files[last]]).exited, 0);
  assert.equal(await state(), last);
  assert.equal((await stat(keep)).ino, before, 'volume "keep" was moved, not copied');
  assert.deepEqual(await leftovers(dir), { out: [], tmp: [] });
});

test('two rebuilds at once that both reuse the volume of one OUT: both succeed, OUT is complete', async () => {
  const dir = join(suite.work, 'reuse-twice');
  const out = join(dir, 'out');
  const file = await system(dir, 'old');
  assert.equal(await spawnBuild(['-o', out, '--cache', join(dir, 'cache'), file]).exited, 0);
  const runs = [1, 2, 3].map(() => spawnBuild(['-o', out, '--cache', join(dir, 'cache'), file]));
  assert.deepEqual(await Promise.all(runs.map((r) => r.exited)), [0, 0, 0]);
  assert.equal(await stateOf(out), 'old');
  assert.deepEqual(await leftovers(dir), { out: [], tmp: [] });
});

test('killed between the two renames: the next start puts the previous OUT back, and the next build replaces it', async () => {
  const dir = join(suite.work, 'window');
  const out = join(dir, 'out');
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  /** The state a build of pid `dead` leaves when killed right after moving OUT aside. */
  const leaveWindow = async () => {
    await buildIn('window', 'old', out);
    await rename(out, join(dir, `.out.old-${dead}-0000aaaa`));
    await rename((await buildIn('window-staged', 'new')).out, join(dir, `.out.partial-${dead}-0000bbbb`));
  };
  await leaveWindow();
  await recoverOutput(out);
  assert.equal(await stateOf(out), 'old');
  assert.deepEqual((await leftovers(dir)).out, []);
  await rm(out, { recursive: true });
  await leaveWindow();
  assert.equal(await spawnBuild(['-o', out, '--cache', join(dir, 'cache'), await system(dir, 'new')]).exited, 0);
  assert.equal(await stateOf(out), 'new');
  assert.deepEqual(await leftovers(dir), { out: [], tmp: [] });
});

test('two CLI builds at once on one cache, different OUTs: both succeed with byte-identical trees and lkvol.json', async () => {
  const dir = join(suite.work, 'shared-cache');
  const file = await system(dir, 'new');
  const runs = ['a', 'b'].map((o) => spawnBuild(['-o', join(dir, o), '--cache', join(dir, 'cache'), file]));
  assert.deepEqual(await Promise.all(runs.map((r) => r.exited)), [0, 0]);
  assert.deepEqual([await tree(join(dir, 'a')), await tree(join(dir, 'b'))], [trees.new, trees.new]);
  assert.deepEqual(await readFile(join(dir, 'a', 'lkvol.json')), await readFile(join(dir, 'b', 'lkvol.json')));
  assert.deepEqual(await readdir(join(dir, 'cache', 'v1', 'tmp')), []);
});

test('two builds at once into the same OUT, as two processes and within one: all succeed, OUT is one complete tree', async () => {
  const dir = join(suite.work, 'same-out');
  const out = join(dir, 'out');
  await buildIn('same-out', 'old', out);
  const file = await system(dir, 'new');
  const runs = [1, 2].map(() => spawnBuild(['-o', out, '--cache', join(dir, 'cache'), file]));
  assert.deepEqual(await Promise.all(runs.map((r) => r.exited)), [0, 0]);
  assert.equal(await stateOf(out), 'new');
  await buildIn('same-out', 'old', out);
  // Within one process both builds share a pid: neither may take the other's staging dir for a leftover.
  const options = {
    files: [await system(dir, 'new')],
    out,
    cacheDir: join(dir, 'cache'),
    platform: 'linux/amd64',
    applyOwnership: isRoot,
  };
  await Promise.all([build(options), build(options)]);
  assert.equal(await stateOf(out), 'new');
  assert.deepEqual(await leftovers(dir), { out: [], tmp: [] });
});
