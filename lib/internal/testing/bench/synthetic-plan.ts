// The synthetic image's entries, layer by layer (pure; no I/O): ~30 k entries, ~480 MB of tar, many
// small files, a few large random ones, symlinks, hardlinks, and 1 k whiteouts plus a few opaque
// directories in later layers that remove content of earlier ones. Same seed, same entries.
import type { TarEntry } from '../tar.js';
import type { ContentSpec } from './content.js';
import { createPrng, type Prng } from './prng.js';

/** A tar entry whose file content is described (generated when the layer is written), not held. */
export type SyntheticEntry = Omit<TarEntry, 'name' | 'content'> & { name: string; content?: ContentSpec };

type Kind = 'dir' | 'file' | 'symlink' | 'link';
interface Meta {
  kind: Kind;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

/** What the tree holds after the layers planned so far, and a layer being planned. */
interface Planner {
  prng: Prng;
  nextSeed: number;
  live: Map<string, Meta>;
  layer: Map<string, SyntheticEntry>;
  t0: number;
}

const MiB = 2 ** 20;
const day = 86_400;

/** Plans the four layers: base, update, cleanup (the whiteouts), app. */
export function planSyntheticImage(seed = 8): SyntheticEntry[][] {
  const p: Planner = { prng: createPrng(seed), nextSeed: 1, live: new Map(), layer: new Map(), t0: 0 };
  return [planBase(p), planUpdate(p), planCleanup(p), planApp(p)];
}

function planBase(p: Planner): SyntheticEntry[] {
  startLayer(p, 1_600_000_000);
  for (let t = 0; t < 16; t++) {
    addDir(p, `d${t}`, t === 15 ? 0o1777 : 0o755);
    for (let s = 0; s < 16; s++) addDir(p, `d${t}/s${s}`, p.prng.chance(0.05) ? 0o700 : 0o755);
  }
  for (let i = 0; i < 15_000; i++) {
    const dir = p.prng.chance(0.05) ? `d${p.prng.int(16)}` : `d${p.prng.int(16)}/s${p.prng.int(16)}`;
    addSmallFile(p, `${dir}/f${pad(i)}${p.prng.pick(['.txt', '.conf', '.so', '.py', ''])}`);
  }
  addSymlinks(p, 800, (i) => `d${p.prng.int(16)}/s${p.prng.int(16)}/l${pad(i)}`);
  addHardlinks(p, 400);
  addDir(p, 'big', 0o755);
  [24, 32, 40, 48].forEach((size, i) => addLargeFile(p, `big/blob-${i}.bin`, size * MiB));
  return finishLayer(p);
}

function planUpdate(p: Planner): SyntheticEntry[] {
  startLayer(p, 1_610_000_000);
  const lower = liveFiles(p);
  const overwritten = pickDistinct(p.prng, lower, 500);
  for (const path of overwritten) addSmallFile(p, path);
  for (let t = 0; t < 16; t++) for (let u = 0; u < 4; u++) addDir(p, `d${t}/u${u}`, 0o755);
  for (let i = 0; i < 6_000; i++) addSmallFile(p, `d${p.prng.int(16)}/u${p.prng.int(4)}/g${pad(i)}.dat`);
  addSymlinks(p, 200, (i) => `d${p.prng.int(16)}/u${p.prng.int(4)}/m${pad(i)}`);
  addHardlinks(p, 150);
  // Hardlinks to files of the layer below that this layer leaves alone.
  const kept = lower.filter((path) => !overwritten.includes(path));
  pickDistinct(p.prng, kept, 50).forEach((target, i) =>
    addHardlink(p, `d${p.prng.int(16)}/u${p.prng.int(4)}/lower-hl${pad(i)}`, target),
  );
  [32, 40].forEach((size, i) => addLargeFile(p, `big/blob-${4 + i}.bin`, size * MiB));
  return finishLayer(p);
}

function planCleanup(p: Planner): SyntheticEntry[] {
  startLayer(p, 1_620_000_000);
  const subdirs = [...p.live]
    .filter(([path, m]) => m.kind === 'dir' && /^d\d+\/s\d+$/.test(path))
    .map(([path]) => path);
  for (const dir of pickDistinct(p.prng, subdirs, 60)) addWhiteout(p, dir);
  const updates = [...p.live]
    .filter(([path, m]) => m.kind === 'dir' && /^d\d+\/u\d+$/.test(path))
    .map(([path]) => path);
  for (const dir of pickDistinct(p.prng, updates, 6)) {
    addDir(p, dir, 0o755);
    addRaw(p, { name: `${dir}/.wh..wh..opq` });
    removeChildren(p, dir);
    for (let i = 0; i < 8; i++) addSmallFile(p, `${dir}/opq${i}.txt`);
  }
  // Only content of lower layers: a whiteout never hides its own layer's entries.
  const lower = [...p.live]
    .filter(([path, m]) => m.kind !== 'dir' && !p.layer.has(path) && !path.startsWith('big/'))
    .map(([path]) => path);
  for (const path of pickDistinct(p.prng, lower, 880)) addWhiteout(p, path);
  addWhiteout(p, 'big/blob-1.bin');
  const dirs = [...p.live].filter(([path, m]) => m.kind === 'dir' && path.includes('/')).map(([path]) => path);
  for (let i = 0; i < 1_000; i++) addSmallFile(p, `${p.prng.pick(dirs)}/n${pad(i)}.txt`);
  return finishLayer(p);
}

function planApp(p: Planner): SyntheticEntry[] {
  startLayer(p, 1_630_000_000);
  const lower = liveFiles(p).filter((path) => /\/u\d+\/g/.test(path));
  for (const path of pickDistinct(p.prng, lower, 59)) addWhiteout(p, path);
  addDir(p, 'app', 0o755);
  for (let m = 0; m < 30; m++) addDir(p, `app/m${m}`, 0o755);
  for (let i = 0; i < 3_000; i++)
    addSmallFile(p, `app/m${p.prng.int(30)}/a${pad(i)}${p.prng.pick(['.js', '.json', '.map'])}`);
  addSymlinks(p, 50, (i) => `app/m${p.prng.int(30)}/k${pad(i)}`);
  addHardlinks(p, 50);
  addDir(p, 'app/data', 0o750);
  addLargeFile(p, 'app/data/model.bin', 40 * MiB);
  return finishLayer(p);
}

function startLayer(p: Planner, t0: number): void {
  p.layer = new Map();
  p.t0 = t0;
}

/**
 * Adds an entry for every parent a layer lists (as image builders write them) and sorts by name, so parents and
 * hardlink targets come first.
 */
function finishLayer(p: Planner): SyntheticEntry[] {
  for (const name of [...p.layer.keys()]) {
    for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
      const dir = name.slice(0, i);
      const meta = p.live.get(dir);
      if (!p.layer.has(dir) && meta !== undefined)
        p.layer.set(dir, { name: dir, type: 'dir', mode: meta.mode, uid: meta.uid, gid: meta.gid, mtime: p.t0 });
    }
  }
  return [...p.layer.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Owners vary by top directory: root, a user, www-data. */
function ownerOf(path: string): { uid: number; gid: number } {
  const top = Number(/^d(\d+)/.exec(path)?.[1] ?? -1);
  if (top === 12 || top === 13) return { uid: 1000, gid: 1000 };
  if (top === 14) return { uid: 33, gid: 33 };
  return { uid: 0, gid: 0 };
}

function addRaw(p: Planner, e: SyntheticEntry, kind?: Kind): void {
  p.layer.set(e.name, e);
  if (kind !== undefined)
    p.live.set(e.name, { kind, mode: e.mode ?? 0o644, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime as number });
}

function addDir(p: Planner, name: string, mode: number): void {
  addRaw(p, { name, type: 'dir', mode, ...ownerOf(name), mtime: p.t0 + p.prng.int(day) }, 'dir');
}

function addSmallFile(p: Planner, name: string): void {
  // Log-uniform sizes from 16 B to 64 KiB (mean ~8 KB); about a third are incompressible.
  const size = Math.floor(16 * Math.exp(p.prng.next() * Math.log(4096)));
  const content: ContentSpec = { kind: p.prng.chance(0.3) ? 'binary' : 'text', size, seed: p.nextSeed++ };
  const roll = p.prng.next();
  const mode = roll < 0.002 ? 0o4755 : roll < 0.02 ? 0o600 : roll < 0.12 ? 0o755 : 0o644;
  addRaw(p, { name, mode, ...ownerOf(name), mtime: p.t0 + p.prng.int(day), content }, 'file');
}

function addLargeFile(p: Planner, name: string, size: number): void {
  addRaw(
    p,
    { name, mode: 0o644, mtime: p.t0 + p.prng.int(day), content: { kind: 'binary', size, seed: p.nextSeed++ } },
    'file',
  );
}

function addSymlinks(p: Planner, count: number, nameOf: (i: number) => string): void {
  const targets = liveFiles(p);
  for (let i = 0; i < count; i++) {
    const name = nameOf(i);
    const target = p.prng.pick(targets);
    // Absolute and relative targets, as images have both.
    const linkname = p.prng.chance(0.5) ? `/${target}` : `${'../'.repeat(name.split('/').length - 1)}${target}`;
    addRaw(
      p,
      { name, type: 'symlink', linkname, mode: 0o777, ...ownerOf(name), mtime: p.t0 + p.prng.int(day) },
      'symlink',
    );
  }
}

/** Hardlinks beside files of this layer, named `<target>-hl<k>`, so each sorts after its target. */
function addHardlinks(p: Planner, count: number): void {
  const targets = [...p.layer.values()]
    .filter((e) => e.type === undefined && e.content !== undefined && e.content.size < MiB)
    .map((e) => e.name);
  for (const target of pickDistinct(p.prng, targets, count)) {
    let k = 1;
    while (p.layer.has(`${target}-hl${k}`)) k++;
    addHardlink(p, `${target}-hl${k}`, target);
  }
}

/** A hardlink entry carries its inode's metadata, as tar writes it. */
function addHardlink(p: Planner, name: string, target: string): void {
  const meta = p.live.get(target);
  if (meta === undefined) throw new Error(`synthetic plan: hardlink target ${target} is not in the tree`);
  addRaw(
    p,
    { name, type: 'link', linkname: target, mode: meta.mode, uid: meta.uid, gid: meta.gid, mtime: meta.mtime },
    'link',
  );
}

function addWhiteout(p: Planner, path: string): void {
  const slash = path.lastIndexOf('/');
  addRaw(p, { name: `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`, mode: 0o644, mtime: p.t0 });
  const wasDir = p.live.get(path)?.kind === 'dir';
  p.live.delete(path);
  if (wasDir) removeChildren(p, path);
}

function removeChildren(p: Planner, path: string): void {
  for (const key of [...p.live.keys()]) if (key.startsWith(`${path}/`)) p.live.delete(key);
}

function liveFiles(p: Planner): string[] {
  return [...p.live].filter(([path, m]) => m.kind === 'file' && !path.startsWith('big/')).map(([path]) => path);
}

/** `count` distinct items chosen at random (all of them when there are fewer). */
function pickDistinct<T>(prng: Prng, items: readonly T[], count: number): T[] {
  const pool = [...items];
  const chosen: T[] = [];
  while (chosen.length < count && pool.length > 0) {
    const i = prng.int(pool.length);
    chosen.push(pool[i] as T);
    pool[i] = pool[pool.length - 1] as T;
    pool.pop();
  }
  return chosen;
}

function pad(i: number): string {
  return String(i).padStart(5, '0');
}
