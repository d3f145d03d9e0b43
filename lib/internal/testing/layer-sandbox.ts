// Test helper: a temp volume root with a sentinel directory beside it, and layers applied to it in order.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import type { Digest } from '../../digest/index.js';
import {
  createExtractState,
  extractLayer,
  finishExtraction,
  volumeReport,
  type ExtractLayerResult,
  type ExtractState,
  type LayerLimits,
  type LayerWarning,
  type VolumeLimits,
  type VolumeReport,
} from '../../layer/index.js';
import { buildTar, gzip, type BuildTarOptions, type TarEntry } from './tar.js';
import { describeTree, walkTree, type TreeNode } from './tree.js';
import { LkvolError, UnsafePathError, type ErrorCode } from '../../errors.js';

/** A layer for tests: entries (tarred, maybe gzip-ed, maybe with bytes after the end) or a raw blob. */
export type LayerSpec =
  readonly TarEntry[] | ({ entries: readonly TarEntry[]; gzip?: boolean } & BuildTarOptions) | { blob: Buffer };

/** `base/lower` is the volume root; `base/OUT` is a sentinel that extraction must never touch. */
export interface Sandbox {
  base: string;
  root: string;
  out: string;
  /** The sentinel as it was created, times included. */
  before: TreeNode[];
}

/** Creates a sandbox removed when the test ends. OUT holds `secret` (0640), `sub/file` and `sub/`. */
export async function createSandbox(t: TestContext): Promise<Sandbox> {
  const base = await mkdtemp(join(tmpdir(), 'lkvol-layer-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'lower');
  const out = join(base, 'OUT');
  await mkdir(root);
  await mkdir(join(out, 'sub'), { recursive: true, mode: 0o750 });
  await writeFile(join(out, 'secret'), 'secret\n', { mode: 0o640 });
  await writeFile(join(out, 'sub', 'file'), 'sub file\n', { mode: 0o600 });
  for (const p of [join(out, 'secret'), join(out, 'sub', 'file'), join(out, 'sub'), out])
    await utimes(p, 1_000_000, 1_000_000);
  return { base, root, out, before: await walkTree(out, { includeRoot: true }) };
}

/**
 * Asserts that OUT is byte-for-byte as created (content, modes, owners, times) and nothing new sits beside the root.
 */
export async function assertSentinelUnchanged(sb: Sandbox): Promise<void> {
  assert.deepEqual(
    await walkTree(sb.out, { includeRoot: true }),
    sb.before,
    'the sentinel beside the volume root changed',
  );
  assert.deepEqual((await readdir(sb.base)).sort(), ['OUT', 'lower'], 'something was created beside the volume root');
}

/** Options of {@link applyLayers}. */
export interface ApplyOptions {
  applyOwnership?: boolean;
  volumeLimits?: VolumeLimits;
  limits?: LayerLimits;
  /** Expected diffIds by layer index. */
  diffIds?: ReadonlyArray<Digest | undefined>;
  /** Split blobs into chunks of this many bytes (default 333: exercises every block boundary). */
  chunkSize?: number;
  signal?: AbortSignal;
}

/** What applying the layers produced. */
export interface Applied {
  results: ExtractLayerResult[];
  warnings: LayerWarning[];
  /** Layer digests by index (sha256 of each blob). */
  digests: string[];
  state: ExtractState;
  /** Intended ownership and skipped devices, after `finishExtraction`. */
  report: VolumeReport;
}

/** Builds each layer's blob; also returns the uncompressed tar for diffId checks. */
export async function buildLayer(spec: LayerSpec): Promise<{ blob: Buffer; tar: Buffer }> {
  if ('blob' in spec) return { blob: spec.blob, tar: spec.blob };
  const {
    entries,
    gzip: compress,
    ...opts
  } = Array.isArray(spec)
    ? { entries: spec as readonly TarEntry[] }
    : (spec as { entries: readonly TarEntry[]; gzip?: boolean } & BuildTarOptions);
  const tar = await buildTar(entries, opts);
  return { blob: compress === true ? gzip(tar) : tar, tar };
}

/** sha256 digest of a buffer, as a layer digest string. */
export function sha256Digest(buf: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(buf).digest('hex')}` as Digest;
}

/**
 * Applies the layers in order to `sb.root` with one ExtractState. Rejects with the first error; the
 * error is annotated with `testLayerIndex` and `testLayer` so tests can check which layer failed.
 */
export async function applyLayers(
  sb: Sandbox,
  layers: readonly LayerSpec[],
  opts: ApplyOptions = {},
): Promise<Applied> {
  const state = createExtractState(opts.volumeLimits);
  const applied: Applied = { results: [], warnings: [], digests: [], state, report: volumeReport(state) };
  for (const [index, spec] of layers.entries()) {
    const { blob } = await buildLayer(spec);
    const layer = sha256Digest(blob);
    applied.digests.push(layer);
    const diffId = opts.diffIds?.[index];
    try {
      applied.results.push(
        await extractLayer(chunked(blob, opts.chunkSize ?? 333), {
          root: sb.root,
          layer,
          state,
          applyOwnership: opts.applyOwnership ?? true,
          onWarning: (w) => applied.warnings.push(w),
          ...(diffId === undefined ? {} : { diffId }),
          ...(opts.limits === undefined ? {} : { limits: opts.limits }),
          ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        }),
      );
    } catch (err) {
      throw Object.assign(err as Error, { testLayerIndex: index, testLayer: layer });
    }
  }
  finishExtraction(state, { root: sb.root });
  applied.report = volumeReport(state);
  return applied;
}

/** A stream of `buf` in chunks of `size` bytes. */
export function chunked(buf: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  return Readable.from(chunks);
}

/** The error a case expects: its code, the index of the failing layer, and the entry it names. */
export interface WantError {
  code: ErrorCode;
  layer: number;
  /** The entry name the message must quote (JSON-quoted, as UnsafePathError does). */
  entry?: string;
}

/** One row of a layer table test. */
export interface LayerCase {
  name: string;
  layers: readonly LayerSpec[] | ((sb: Sandbox) => readonly LayerSpec[]);
  opts?: ApplyOptions;
  /** Lines of the root's tree (see tree.ts `describeNode`), in any order; or the error. */
  want: readonly string[] | ((sb: Sandbox) => readonly string[]) | WantError;
  /** List the root itself as `.` in the tree. */
  includeRoot?: boolean;
  /** Warning codes expected, in any order (default none). */
  warnings?: readonly string[];
  /** Further assertions after a successful run. */
  check?: (applied: Applied, sb: Sandbox) => void | Promise<void>;
}

/** Runs one table row: applies the layers, compares tree or error and warnings, then checks the sentinel. */
export async function runLayerCase(t: TestContext, c: LayerCase): Promise<void> {
  const sb = await createSandbox(t);
  const layers = typeof c.layers === 'function' ? c.layers(sb) : c.layers;
  const want = typeof c.want === 'function' ? c.want(sb) : c.want;
  if (isWantError(want)) {
    await assert.rejects(applyLayers(sb, layers, c.opts), (err: unknown) => assertError(err, want));
  } else {
    const applied = await applyLayers(sb, layers, c.opts);
    const tree = describeTree(await walkTree(sb.root, { includeRoot: c.includeRoot ?? false }));
    assert.deepEqual(tree.sort(), [...want].sort());
    assert.deepEqual(applied.warnings.map((w) => w.code).sort(), [...(c.warnings ?? [])].sort());
    await c.check?.(applied, sb);
  }
  await assertSentinelUnchanged(sb);
}

function isWantError(w: readonly string[] | WantError): w is WantError {
  return !Array.isArray(w);
}

function assertError(err: unknown, want: WantError): true {
  assert.ok(err instanceof LkvolError, `want an LkvolError, got ${String(err)}`);
  const e = err as LkvolError & { testLayerIndex: number; testLayer: string };
  assert.equal(e.code, want.code, e.message);
  assert.equal(e.testLayerIndex, want.layer, `failed in layer ${e.testLayerIndex}: ${e.message}`);
  assert.ok(e.message.includes(e.testLayer), `message names the layer digest: ${e.message}`);
  if (want.entry !== undefined) {
    assert.ok(
      e.message.includes(JSON.stringify(want.entry)),
      `message names entry ${JSON.stringify(want.entry)}: ${e.message}`,
    );
    if (e instanceof UnsafePathError) assert.equal(e.entry, want.entry);
  }
  if (e instanceof UnsafePathError) assert.equal(e.layer, e.testLayer);
  return true;
}
