// Rebuilding into an earlier output: unchanged, intact volumes are reused unread; anything else is extracted anew.
import assert from 'node:assert/strict';
import { appendFile, chmod, cp, lstat, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BuildEvent } from '../events.js';
import { isLkvolError } from '../errors.js';
import { pushTarImage } from '../internal/testing/images.js';
import { pushIndex } from '../internal/testing/push.js';
import type { TarEntry } from '../internal/testing/tar.js';
import { describeTree, replaceWithCopy, walkTree } from '../internal/testing/tree.js';
import { build, type BuildOptions } from './index.js';
import type { BuildRecord } from './record.js';
import { summarizeTree } from './tree.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const isRoot = process.getuid?.() === 0;
const suite = useRegistry({ name: 'reuse' });

/** Two layers with directories, a hardlink, a symlink, a whiteout and an opaque directory. */
const layers: TarEntry[][] = [
  [
    { name: 'etc/', type: 'dir', mode: 0o750 },
    { name: 'etc/conf', content: 'one', uid: 7 },
    { name: 'bin/tool', content: 'tool', mode: 0o755 },
    { name: 'bin/tool2', type: 'link', linkname: 'bin/tool' },
    { name: 'old/gone', content: 'x' },
    { name: 'opaque/lower', content: 'l' },
  ],
  [
    { name: 'link', type: 'symlink', linkname: 'etc/conf' },
    { name: '.wh.old' },
    { name: 'opaque/.wh..wh..opq' },
    { name: 'opaque/upper', content: 'u' },
    { name: 'etc/more', content: 'more' },
  ],
];

suite.before(async () => {
  await pushTarImage({ registry: suite.registry.host, repository: 'reuse/data', tag: '1', layers });
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'reuse/data',
    tag: '2',
    layers: [[{ name: 'v2', content: 'two' }]],
  });
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'reuse/other',
    tag: '1',
    layers: [[{ name: 'other', content: 'other' }]],
  });
  // More entries than the reuse check walks between two looks at the signal.
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'reuse/many',
    tag: '1',
    layers: [Array.from({ length: 2100 }, (_, i) => ({ name: `f${i}`, content: `${i}` }))],
  });
  // Enough files for a worker thread to walk the previous tree with the main thread (fingerprints.ts).
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'reuse/big',
    tag: '1',
    layers: [Array.from({ length: 10_000 }, (_, i) => ({ name: `d${i % 40}/e${i % 7}/f${i}`, content: `${i}` }))],
  });
  // Refused only after many entries, so the other volume has been reused by then.
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'reuse/hostile',
    tag: '1',
    layers: [[...Array.from({ length: 2000 }, (_, i) => ({ name: `f${i}` })), { name: '../escape' }]],
  });
});

interface Run {
  out: string;
  events: BuildEvent[];
}

async function setup(
  t: { after(fn: () => Promise<void>): void },
  yaml: string,
): Promise<{ options: (extra?: Partial<BuildOptions>) => BuildOptions; dir: string }> {
  const dir = await suite.tempDir(t);
  const file = join(dir, 'system.yml');
  await writeFile(file, yaml.replaceAll('REGISTRY', suite.registry.host));
  const options = (extra: Partial<BuildOptions> = {}): BuildOptions => ({
    files: [file],
    out: join(dir, 'out'),
    cacheDir: join(dir, 'cache'),
    platform: 'linux/amd64',
    applyOwnership: isRoot,
    ...extra,
  });
  return { options, dir };
}

async function run(o: BuildOptions): Promise<Run> {
  const events: BuildEvent[] = [];
  const result = await build({ ...o, onEvent: (e) => events.push(e) });
  return { out: result.out, events };
}

/** Volume names the build reported as reused, and as extracted. */
function outcome(r: Run): { reused: string[]; extracted: string[] } {
  const done = r.events.filter((e): e is Extract<BuildEvent, { kind: 'volume-done' }> => e.kind === 'volume-done');
  return {
    reused: done
      .filter((e) => e.reused)
      .map((e) => e.volume)
      .sort(),
    extracted: done
      .filter((e) => !e.reused)
      .map((e) => e.volume)
      .sort(),
  };
}

/** The whole OUT, times included (`walkTree` records mtimes), and lkvol.json's bytes. */
async function snapshot(out: string): Promise<{ tree: string[]; times: number[]; record: string }> {
  const nodes = await walkTree(join(out, 'containers', 'volumes'), { includeRoot: true });
  return {
    tree: describeTree(nodes),
    times: nodes.map((n) => n.mtime),
    record: await readFile(join(out, 'lkvol.json'), 'utf8'),
  };
}

const oneVolume = 'volumes:\n  - name: data\n    image: REGISTRY/reuse/data:1\n';

test('a rebuild with nothing changed reuses the volume, fetches no blob, and writes the same tree and lkvol.json', async (t) => {
  const { options } = await setup(t, oneVolume);
  const first = await run(options());
  const before = await snapshot(first.out);
  const second = await run(options());
  assert.deepEqual(outcome(second), { reused: ['data'], extracted: [] });
  assert.deepEqual(
    second.events.filter((e) => e.kind === 'blob-start' || e.kind === 'layer-applied'),
    [],
    'nothing downloaded or applied',
  );
  const after = await snapshot(second.out);
  assert.deepEqual(after, before);
  // The reused files were hard-linked from the old output, which is gone now: link counts are as before.
  assert.equal((await lstat(join(second.out, 'containers/volumes/data/lower/bin/tool'))).nlink, 2);
  assert.equal((await lstat(join(second.out, 'containers/volumes/data/lower/etc/conf'))).nlink, 1);
  // And a third build reuses the reused tree.
  assert.deepEqual(outcome(await run(options())), { reused: ['data'], extracted: [] });
});

test('a rebuild with nothing changed at all leaves OUT untouched: no staging, no rename', async (t) => {
  const { options } = await setup(
    t,
    `${oneVolume}  - name: blank\nservices:\n  - name: svc\n    image: REGISTRY/reuse/other:1\n    binds: [data:/data]\n`,
  );
  const first = await run(options());
  const ids = async () =>
    Promise.all(
      ['', 'lkvol.json', 'containers/services/svc/config.json', 'containers/volumes/data/lower/etc/conf'].map(
        async (p) => (await lstat(join(first.out, p))).ino,
      ),
    );
  const before = await ids();
  const second = await run(options());
  assert.deepEqual(await ids(), before, 'the same inodes: nothing was rewritten or renamed');
  assert.deepEqual(outcome(second), { reused: ['blank', 'data'], extracted: [] });
});

const outputEdits: Array<{
  name: string;
  edit: (out: string, dir: string) => Promise<void>;
  want: { reused: string[]; extracted: string[] };
}> = [
  {
    name: 'a spec edited',
    edit: (out) => appendFile(join(out, 'containers/services/svc/config.json'), ' '),
    want: { reused: ['data'], extracted: [] },
  },
  {
    name: 'a file added to a bundle',
    edit: (out) => writeFile(join(out, 'containers/services/svc/extra'), 'x'),
    want: { reused: ['data'], extracted: [] },
  },
  {
    name: 'lkvol.json edited',
    edit: (out) => appendFile(join(out, 'lkvol.json'), ' '),
    want: { reused: ['data'], extracted: [] },
  },
  {
    name: 'the system file changed',
    edit: (_, dir) => appendFile(join(dir, 'system.yml'), '    env: [A=1]\n'),
    want: { reused: ['data'], extracted: [] },
  },
];

for (const c of outputEdits) {
  test(`a rebuild after ${c.name} goes through staging, reusing the volume, and writes a complete OUT`, async (t) => {
    const { options, dir } = await setup(
      t,
      `${oneVolume}services:\n  - name: svc\n    image: REGISTRY/reuse/other:1\n`,
    );
    const first = await run(options());
    const inode = (await lstat(join(first.out, 'lkvol.json'))).ino;
    await c.edit(first.out, dir);
    const second = await run(options());
    assert.deepEqual(outcome(second), c.want);
    assert.notEqual((await lstat(join(second.out, 'lkvol.json'))).ino, inode, 'OUT was rewritten');
    const fresh = await run(options({ out: join(dir, 'fresh') }));
    for (const f of ['lkvol.json', 'containers/services/svc/config.json', 'containers/services/svc/runtime.json']) {
      assert.equal(await readFile(join(second.out, f), 'utf8'), await readFile(join(fresh.out, f), 'utf8'), f);
    }
    assert.deepEqual((await snapshot(second.out)).tree, (await snapshot(fresh.out)).tree);
    assert.equal(await lstat(join(second.out, 'containers/services/svc/extra')).catch(() => undefined), undefined);
  });
}

test('with SOURCE_DATE_EPOCH, a rebuild at another epoch rewrites OUT; at the same one it leaves it alone', async (t) => {
  const { options } = await setup(t, oneVolume);
  const first = await run(options({ sourceDateEpoch: 1000 }));
  const inode = async () => (await lstat(join(first.out, 'lkvol.json'))).ino;
  const before = await inode();
  await run(options({ sourceDateEpoch: 1000 }));
  assert.equal(await inode(), before);
  const other = await run(options({ sourceDateEpoch: 2000 }));
  assert.deepEqual(outcome(other), { reused: ['data'], extracted: [] });
  assert.equal((await lstat(join(other.out, 'lkvol.json'))).mtimeMs, 2_000_000);
});

const edits: Array<{ name: string; edit: (lower: string) => Promise<void> }> = [
  { name: 'a file appended to', edit: (l) => appendFile(join(l, 'etc/conf'), '!') },
  {
    name: 'a file rewritten with the same size a second later',
    edit: async (l) => {
      const st = await lstat(join(l, 'etc/conf'));
      await writeFile(join(l, 'etc/conf'), 'ONE');
      await utimes(join(l, 'etc/conf'), st.atime, new Date(st.mtimeMs + 1000));
    },
  },
  { name: 'a mode changed', edit: (l) => chmod(join(l, 'bin/tool'), 0o700) },
  { name: 'a file added', edit: (l) => writeFile(join(l, 'etc/new'), 'new') },
  { name: 'a file removed', edit: (l) => rm(join(l, 'etc/more')) },
  {
    name: 'a hardlink broken into two files',
    edit: async (l) => {
      await rm(join(l, 'bin/tool2'));
      await writeFile(join(l, 'bin/tool2'), 'tool');
    },
  },
  {
    name: 'a file swapped for a symlink',
    edit: async (l) => {
      await rm(join(l, 'etc/more'));
      await symlink('conf', join(l, 'etc/more'));
    },
  },
  { name: 'a directory dated otherwise', edit: (l) => utimes(join(l, 'etc'), 5, 5) },
  { name: 'tmp/ written to', edit: (l) => writeFile(join(l, '..', 'tmp', 'scratch'), 's') },
  {
    name: 'lower/ swapped for a symlink to an identical copy',
    edit: async (l) => {
      await cp(l, `${l}.copy`, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      await rm(l, { recursive: true });
      await symlink(`${l}.copy`, l);
    },
  },
];

for (const c of edits) {
  test(`an output edited after the build (${c.name}) is extracted anew and repaired`, async (t) => {
    const { options } = await setup(t, oneVolume);
    const first = await run(options());
    const before = await snapshot(first.out);
    await c.edit(join(first.out, 'containers/volumes/data/lower'));
    const second = await run(options());
    assert.deepEqual(outcome(second), { reused: [], extracted: ['data'] });
    assert.deepEqual((await snapshot(second.out)).tree, before.tree);
    assert.equal((await snapshot(second.out)).record, before.record);
  });
}

test('changed inputs are extracted anew: another image, other limits', async (t) => {
  const { options, dir } = await setup(t, oneVolume);
  await run(options());
  assert.deepEqual(outcome(await run(options({ limits: { maxEntries: 1000 } }))), { reused: [], extracted: ['data'] });
  assert.deepEqual(outcome(await run(options({ limits: { maxEntries: 1000 } }))), { reused: ['data'], extracted: [] });
  await writeFile(
    join(dir, 'system.yml'),
    oneVolume.replace('data:1', 'data:2').replaceAll('REGISTRY', suite.registry.host),
  );
  const r = await run(options({ limits: { maxEntries: 1000 } }));
  assert.deepEqual(outcome(r), { reused: [], extracted: ['data'] });
  assert.equal(await readFile(join(r.out, 'containers/volumes/data/lower/v2'), 'utf8'), 'two');
});

test('--no-reuse extracts an unchanged volume again and rewrites OUT', async (t) => {
  const { options } = await setup(t, oneVolume);
  const first = await run(options());
  const inode = (await lstat(join(first.out, 'lkvol.json'))).ino;
  const again = await run(options({ reuse: false }));
  assert.deepEqual(outcome(again), { reused: [], extracted: ['data'] });
  assert.notEqual((await lstat(join(again.out, 'lkvol.json'))).ino, inode);
});

test('a tag that now names an index holding the same manifest: the volume is reused, the record names the new digest', async (t) => {
  const pushed = await pushTarImage({ registry: suite.registry.host, repository: 'reuse/moved', tag: '1', layers });
  const { options } = await setup(t, 'volumes:\n  - name: data\n    image: REGISTRY/reuse/moved:1\n');
  const first = await run(options());
  const entry = {
    mediaType: pushed.manifestMediaType,
    digest: pushed.manifestDigest,
    size: pushed.manifestSize,
    platform: { os: 'linux', architecture: 'amd64' },
  };
  const index = await pushIndex({
    registry: suite.registry.host,
    repository: 'reuse/moved',
    tag: '1',
    format: 'oci',
    manifests: [entry],
  });
  const second = await run(options());
  assert.deepEqual(outcome(second), { reused: ['data'], extracted: [] });
  const record = JSON.parse(await readFile(join(second.out, 'lkvol.json'), 'utf8')) as {
    images: Record<string, string>;
    volumes: Array<{ digest: string; manifest: string }>;
  };
  assert.equal(record.volumes[0]?.digest, index.digest);
  assert.equal(record.volumes[0]?.manifest, pushed.manifestDigest);
  assert.equal(record.images[`${suite.registry.host}/reuse/moved:1`], index.digest);
  const fresh = await run(options({ out: join(first.out, '..', 'fresh') }));
  assert.equal(
    await readFile(join(second.out, 'lkvol.json'), 'utf8'),
    await readFile(join(fresh.out, 'lkvol.json'), 'utf8'),
  );
});

test('with two volumes, changing one extracts only that one', async (t) => {
  const two = `${oneVolume}  - name: other\n    image: REGISTRY/reuse/other:1\n`;
  const { options, dir } = await setup(t, two);
  await run(options());
  await writeFile(
    join(dir, 'system.yml'),
    two.replace('other:1', 'data:2').replaceAll('REGISTRY', suite.registry.host),
  );
  const r = await run(options());
  assert.deepEqual(outcome(r), { reused: ['data'], extracted: ['other'] });
  assert.equal(await readFile(join(r.out, 'containers/volumes/other/lower/v2'), 'utf8'), 'two');
  assert.equal(await readFile(join(r.out, 'containers/volumes/data/lower/etc/more'), 'utf8'), 'more');
});

test('the unchanged volume is moved into the new OUT, not copied: the same directory, and nothing left beside OUT', async (t) => {
  const two = `${oneVolume}  - name: other\n    image: REGISTRY/reuse/other:1\n`;
  const { options, dir } = await setup(t, two);
  const first = await run(options());
  const lower = join(first.out, 'containers/volumes/data/lower');
  const [before, tree] = [await lstat(lower), await snapshot(first.out)];
  await writeFile(
    join(dir, 'system.yml'),
    two.replace('other:1', 'data:2').replaceAll('REGISTRY', suite.registry.host),
  );
  await run(options());
  assert.equal((await lstat(lower)).ino, before.ino);
  assert.equal((await lstat(join(lower, 'bin/tool'))).nlink, 2, 'no links made by the reuse remain');
  assert.deepEqual((await readdir(dir)).sort(), ['cache', 'out', 'system.yml']);
  // And it is as intact as before: the next rebuild with nothing changed leaves it alone.
  await writeFile(join(dir, 'system.yml'), two.replaceAll('REGISTRY', suite.registry.host));
  const back = await run(options());
  assert.deepEqual(outcome(back), { reused: ['data'], extracted: ['other'] });
  assert.deepEqual((await snapshot(back.out)).tree, tree.tree);
});

test('a volume replaced in OUT after it was checked is linked or extracted instead of moved, and OUT is complete', async (t) => {
  const two = `${oneVolume}  - name: other\n    image: REGISTRY/reuse/other:1\n`;
  const { options, dir } = await setup(t, two);
  const first = await run(options());
  const want = await snapshot(first.out);
  const lower = join(first.out, 'containers/volumes/data/lower');
  await writeFile(
    join(dir, 'system.yml'),
    two.replace('other:1', 'data:2').replaceAll('REGISTRY', suite.registry.host),
  );
  const events: BuildEvent[] = [];
  let replaced = false;
  const onEvent = (e: BuildEvent) => {
    events.push(e);
    // Checked intact, not moved yet: a concurrent build swaps in its own copy of the same tree.
    if (e.kind === 'volume-done' && e.volume === 'data' && e.reused && !replaced) {
      replaced = true;
      replaceWithCopy(lower);
    }
  };
  const copy = await build({ ...options(), onEvent }).then(async () => lstat(lower));
  assert.ok(replaced);
  assert.equal(events.filter((e) => e.kind === 'volume-done' && e.volume === 'data').length, 2, 'done twice');
  assert.equal(await readFile(join(lower, 'etc/more'), 'utf8'), 'more');
  assert.equal(await readFile(join(first.out, 'containers/volumes/other/lower/v2'), 'utf8'), 'two');
  const dataOf = (tree: string[]) => tree.filter((l) => l.startsWith('data/lower/'));
  assert.equal(dataOf(want.tree).length, 9);
  assert.deepEqual(dataOf((await snapshot(first.out)).tree), dataOf(want.tree));
  assert.ok(copy.isDirectory());
  assert.deepEqual((await readdir(dir)).sort(), ['cache', 'out', 'system.yml']);
});

test('a rebuild that reuses a volume and then fails leaves the previous output exactly as it was', async (t) => {
  const { options, dir } = await setup(t, oneVolume);
  const first = await run(options());
  const before = await snapshot(first.out);
  const nlinks = await Promise.all(
    ['bin/tool', 'etc/conf'].map(async (p) => (await lstat(join(first.out, 'containers/volumes/data/lower', p))).nlink),
  );
  await writeFile(
    join(dir, 'system.yml'),
    `${oneVolume}  - name: broken\n    image: REGISTRY/reuse/hostile:1\n`.replaceAll('REGISTRY', suite.registry.host),
  );
  const events: BuildEvent[] = [];
  await assert.rejects(build({ ...options(), onEvent: (e) => events.push(e) }), (e: unknown) =>
    isLkvolError(e, 'LKVOL_LAYER_UNSAFE_PATH'),
  );
  assert.ok(
    events.some((e) => e.kind === 'volume-done' && e.volume === 'data' && e.reused),
    'the unchanged volume was reused before the failure',
  );
  assert.deepEqual(await snapshot(first.out), before);
  assert.deepEqual(
    await Promise.all(
      ['bin/tool', 'etc/conf'].map(
        async (p) => (await lstat(join(first.out, 'containers/volumes/data/lower', p))).nlink,
      ),
    ),
    nlinks,
  );
});

/**
 * Builds, cancelling once the images have resolved (the pull's own checks have passed by then), before the walk of
 * OUT ends; the build must stop as a cancellation that says the previous output was left as it was.
 */
async function cancelledAfterResolve(o: BuildOptions): Promise<void> {
  const controller = new AbortController();
  const onEvent = (e: BuildEvent) => {
    if (e.kind === 'resolve') setImmediate(() => controller.abort());
  };
  await assert.rejects(
    build({ ...o, signal: controller.signal, onEvent }),
    (e: unknown) => isLkvolError(e, 'LKVOL_CANCELLED') && /left as it was/.test(e.hint ?? ''),
  );
}

test('cancelled while the no-change check walks OUT: a cancellation, and OUT is left as it was', async (t) => {
  const { options } = await setup(t, 'volumes:\n  - name: many\n    image: REGISTRY/reuse/many:1\n');
  const first = await run(options());
  const before = await snapshot(first.out);
  await cancelledAfterResolve(options());
  assert.deepEqual(await snapshot(first.out), before);
});

/** lkvol.json, and the digest and fingerprint of the big volume's tree (`snapshot` reads 10,000 files more slowly). */
async function bigState(out: string): Promise<{ record: string; digest: string; fingerprint: string }> {
  const { digest, fingerprint } = await summarizeTree(join(out, 'containers/volumes/big/lower'));
  return { record: await readFile(join(out, 'lkvol.json'), 'utf8'), digest, fingerprint };
}

test('a large volume, walked by a worker thread too: reused when intact, left as it was when cancelled, extracted anew after an edit deep inside', async (t) => {
  const big =
    'volumes:\n  - name: big\n    image: REGISTRY/reuse/big:1\n  - name: other\n    image: REGISTRY/reuse/other:1\n';
  const { options, dir } = await setup(t, big);
  const first = await run(options());
  const before = await bigState(first.out);
  const record = (await lstat(join(first.out, 'lkvol.json'))).ino;
  assert.deepEqual(outcome(await run(options())), { reused: ['big', 'other'], extracted: [] });
  assert.equal((await lstat(join(first.out, 'lkvol.json'))).ino, record, 'OUT left alone');
  // The other volume changed: the big one is checked again (by the worker and the main thread) and moved over.
  await writeFile(
    join(dir, 'system.yml'),
    big.replace('other:1', 'data:2').replaceAll('REGISTRY', suite.registry.host),
  );
  assert.deepEqual(outcome(await run(options())), { reused: ['big'], extracted: ['other'] });
  const moved = await bigState(first.out);
  assert.equal(moved.fingerprint, before.fingerprint);
  // Cancelled while both threads walk.
  await cancelledAfterResolve(options());
  assert.deepEqual(await bigState(first.out), moved);
  await appendFile(join(first.out, 'containers/volumes/big/lower/d23/e4/f3423'), '!');
  assert.deepEqual(outcome(await run(options())), { reused: ['other'], extracted: ['big'] });
  const bigRecord = (text: string) => (JSON.parse(text) as BuildRecord).volumes.find((v) => v.name === 'big');
  const json = await readFile(join(first.out, 'lkvol.json'), 'utf8');
  assert.equal(bigRecord(json)?.contentDigest, bigRecord(before.record)?.contentDigest);
  assert.equal(bigRecord(json)?.files, 10_000);
});
