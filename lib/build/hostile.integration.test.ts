// Reference §3.3 cases 1–49 and 62–64 end to end: push to a real registry, run `lkvol build`, check refusal or
// containment.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ErrorCode } from '../errors.js';
import { startFaultProxy, type Fault } from '../internal/testing/fault-proxy.js';
import { pushImage, sha256, type LayerInput } from '../internal/testing/push.js';
import { runInProcess } from '../internal/testing/run-in-process.js';
import { buildTar, encodePax, gzip, type TarEntry } from '../internal/testing/tar.js';
import {
  describeTree,
  readXattrs,
  walkTree,
  wantDir as d,
  wantFile as f,
  wantSymlink as s,
} from '../internal/testing/tree.js';
import { useRegistry } from '../internal/testing/use-registry.js';

/** A layer: tar entries (gzip), an archive with options, or a blob as stored. */
type Layer =
  | readonly TarEntry[]
  | {
      entries: readonly TarEntry[];
      after?: Uint8Array;
      endMarker?: boolean;
      compress?: 'gzip' | 'none' | 'zstd';
      mediaType?: string;
    }
  | { blob: Buffer; diffId?: string; mediaType?: string };
/** `out` is the absolute path of the sentinel OUT beside the build output. */
type Ctx = { out: string };
type Want =
  | { refused: { code: ErrorCode; entry?: string; layer?: number } }
  | { contained: readonly string[] | ((c: Ctx) => readonly string[]) };
interface Case {
  id: number;
  name: string;
  layers: readonly Layer[] | ((c: Ctx) => readonly Layer[]);
  want: Want;
  flags?: string[];
  /** Patterns the build's stderr must show (warnings). */
  stderr?: RegExp[];
  /** Replaces rootfs.diff_ids[i] in the config. */
  diffIds?: Record<number, string>;
  /**
   * Puts a fault proxy in front of the registry; gets the pushed layers, decides per request (n counts requests for the
   * URL).
   */
  fault?: (layers: LayerInput[], digests: string[]) => (url: string, n: number) => Fault;
  check?: (lower: string) => Promise<void>;
}

const up = '../../../../../'; // from lower/ (staging/containers/volumes/v/lower) to the directory holding OUT
const refused = (code: ErrorCode, entry?: string, layer?: number): Want => ({
  refused: { code, ...(entry === undefined ? {} : { entry }), ...(layer === undefined ? {} : { layer }) },
});
const unsafe = (entry: string, layer?: number) => refused('LKVOL_LAYER_UNSAFE_PATH', entry, layer);
const corrupt = (entry?: string) => refused('LKVOL_LAYER_CORRUPT', entry);
const contained = (tree: readonly string[] | ((c: Ctx) => readonly string[])): Want => ({ contained: tree });
/** The directories an absolute host path becomes inside lower/, and the path itself. */
const rerooted = (c: Ctx) => {
  const parts = c.out.slice(1).split('/');
  return { dirs: parts.map((_, i) => d(parts.slice(0, i + 1).join('/'))), path: parts.join('/') };
};
const hidden = await buildTar([{ name: `${up}OUT/hidden`, content: 'h' }], { endMarker: false });
const zstd = (buf: Buffer, ...args: string[]) => execFileSync('zstd', ['-q', '-c', ...args], { input: buf });
/** A zstd frame header declaring a window of 2^log bytes, then one empty last raw block. */
const zstdWindow = (log: number) => Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (log - 10) << 3, 0x01, 0x00, 0x00]);
const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]);
const tarOf = (e: readonly TarEntry[]) => buildTar(e);
/** 64 KiB that gzip cannot shrink (xorshift32 with a fixed seed, so runs are reproducible). */
const noise = Buffer.alloc(64 << 10);
for (let i = 0, x = 2463534242; i < noise.length; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  noise[i] = x & 0xff;
}

const cases: Case[] = [
  // Paths and names
  {
    id: 1,
    name: 'a name climbing out with .. is refused',
    layers: [[{ name: 'ok' }, { name: `${up}OUT/pwn`, content: 'pwn' }]],
    want: unsafe(`${up}OUT/pwn`),
  },
  {
    id: 2,
    name: 'absolute names are re-rooted inside lower/',
    layers: (c) => [
      [
        { name: '/OUT/pwn', content: 'p' },
        { name: `${c.out}/pwn2`, content: 'q' },
      ],
    ],
    want: contained((c) => [d('OUT'), f('OUT/pwn', 'p'), ...rerooted(c).dirs, f(`${rerooted(c).path}/pwn2`, 'q')]),
  },
  {
    id: 3,
    name: 'a/../../x after cleaning climbs out and is refused',
    layers: [[{ name: `a/../${up}OUT/x` }]],
    want: unsafe(`a/../${up}OUT/x`),
  },
  { id: 3, name: './../x is refused', layers: [[{ name: './../x' }]], want: unsafe('./../x') },
  {
    id: 3,
    name: 'a/./b/../../.. is refused',
    layers: [[{ name: 'a/./b/../../..', type: 'dir' }]],
    want: unsafe('a/./b/../../../'),
  },
  {
    id: 4,
    name: 'a NUL byte in a name is refused',
    layers: [[{ name: 'x', pax: { path: 'a\0b' } }]],
    want: corrupt('x'),
  },
  {
    id: 4,
    name: 'backslashes and drive prefixes are plain name bytes on Linux',
    layers: [
      [
        { name: '..\\..\\OUT\\pwn', content: 'x' },
        { name: 'C:..\\x', content: 'y' },
      ],
    ],
    want: contained([f('..\\..\\OUT\\pwn', 'x'), f('C:..\\x', 'y')]),
  },
  {
    id: 5,
    name: 'a ./ root entry only sets the root metadata',
    layers: [[{ name: './', type: 'dir', mode: 0o750 }, { name: 'a' }]],
    want: contained([d('.', 0o750), f('a')]),
  },
  {
    id: 6,
    name: 'a root entry that is a symlink is refused',
    layers: (c) => [[{ name: '.', type: 'symlink', linkname: c.out }, { name: 'etc/x' }]],
    want: unsafe('.'),
  },
  { id: 7, name: 'a name that is exactly .wh. is refused', layers: [[{ name: 'd/.wh.' }]], want: unsafe('d/.wh.') },
  {
    id: 8,
    name: '1100 nested directories hit the depth cap',
    layers: [[{ name: `${'a/'.repeat(1100)}f` }]],
    want: refused('LKVOL_LAYER_LIMIT'),
  },
  {
    id: 8,
    name: 'too many entries hit --max-entries',
    flags: ['--max-entries', '100'],
    layers: [Array.from({ length: 150 }, (_, i) => ({ name: `f${i}` }))],
    want: refused('LKVOL_LAYER_LIMIT'),
  },
  {
    id: 9,
    name: 'names that differ only in invalid UTF-8 are refused, never merged',
    layers: [[{ name: Buffer.from([0x66, 0xff]) }, { name: Buffer.from([0x66, 0xfe]) }]],
    want: refused('LKVOL_LAYER_UNSAFE_PATH'),
  },
  // Symlinks and hardlinks
  {
    id: 10,
    name: 'same layer d -> ../OUT then d/pwn lands inside lower/',
    layers: [
      [
        { name: 'd', type: 'symlink', linkname: `${up}OUT` },
        { name: 'd/pwn', content: 'p' },
      ],
    ],
    want: contained([s('d', `${up}OUT`), d('OUT'), f('OUT/pwn', 'p')]),
  },
  {
    id: 10,
    name: 'same layer d -> absolute OUT then d/pwn lands inside lower/',
    layers: (c) => [
      [
        { name: 'd', type: 'symlink', linkname: c.out },
        { name: 'd/pwn', content: 'p' },
      ],
    ],
    want: contained((c) => [s('d', c.out), ...rerooted(c).dirs, f(`${rerooted(c).path}/pwn`, 'p')]),
  },
  {
    id: 11,
    name: 'cross-layer d -> absolute OUT then d/pwn lands inside lower/',
    layers: (c) => [[{ name: 'd', type: 'symlink', linkname: c.out }], [{ name: 'd/pwn', content: 'p' }]],
    want: contained((c) => [s('d', c.out), ...rerooted(c).dirs, f(`${rerooted(c).path}/pwn`, 'p')]),
  },
  {
    id: 12,
    name: 'a directory swapped for a symlink is re-resolved for the next entry',
    layers: (c) => [
      [
        { name: 'd', type: 'dir' },
        { name: 'd/f' },
        { name: 'd', type: 'symlink', linkname: c.out },
        { name: 'd/g', content: 'g' },
      ],
    ],
    want: contained((c) => [s('d', c.out), ...rerooted(c).dirs, f(`${rerooted(c).path}/g`, 'g')]),
  },
  {
    id: 13,
    name: 'a chain a -> b -> c -> ../../OUT stays inside',
    layers: [
      [
        { name: 'a', type: 'symlink', linkname: 'b' },
        { name: 'b', type: 'symlink', linkname: 'c' },
        { name: 'c', type: 'symlink', linkname: `${up}OUT` },
        { name: 'a/x', content: 'x' },
      ],
    ],
    want: contained([s('a', 'b'), s('b', 'c'), s('c', `${up}OUT`), d('OUT'), f('OUT/x', 'x')]),
  },
  {
    id: 14,
    name: 'a symlink loop is refused',
    layers: [
      [{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: 'a' }, { name: 'a/x' }],
    ],
    want: unsafe('a/x'),
  },
  {
    id: 15,
    name: 'entries over a symlink to OUT/secret replace the link, never chmod its target',
    layers: (c) => [
      [
        { name: 's', type: 'symlink', linkname: `${c.out}/secret` },
        { name: 't', type: 'symlink', linkname: `${c.out}/secret` },
      ],
      [
        { name: 's', type: 'dir', mode: 0o777 },
        { name: 't', content: 'r', mode: 0o666 },
      ],
    ],
    want: contained([d('s', 0o777), f('t', 'r', { mode: 0o666 })]),
  },
  {
    id: 16,
    name: 'a hardlink to ../OUT/secret is refused',
    layers: [[{ name: 'h', type: 'link', linkname: `${up}OUT/secret` }]],
    want: unsafe('h'),
  },
  {
    id: 17,
    name: 'an absolute hardlink target is resolved inside lower/',
    layers: [[{ name: 'etc/passwd', content: 'root' }], [{ name: 'h', type: 'link', linkname: '/etc/passwd' }]],
    want: contained([
      d('etc'),
      f('etc/passwd', 'root', { mode: 0o644, inode: 'etc/passwd' }),
      f('h', 'root', { mode: 0o644, inode: 'etc/passwd' }),
    ]),
  },
  {
    id: 17,
    name: 'an absolute hardlink to the host OUT/secret finds nothing and is refused',
    layers: (c) => [[{ name: 'h', type: 'link', linkname: `${c.out}/secret` }]],
    want: unsafe('h'),
  },
  {
    id: 18,
    name: 'a hardlink through a symlinked parent d -> OUT is refused',
    layers: (c) => [
      [{ name: 'd', type: 'symlink', linkname: c.out }],
      [{ name: 'h', type: 'link', linkname: 'd/secret' }],
    ],
    want: unsafe('h', 1),
  },
  {
    id: 19,
    name: 'a hardlink to a symlink names the symlink',
    layers: [
      [
        { name: 's', type: 'symlink', linkname: '/etc/x' },
        { name: 'h', type: 'link', linkname: 's' },
      ],
    ],
    want: contained([s('h', '/etc/x', { inode: 'h' }), s('s', '/etc/x', { inode: 'h' })]),
  },
  {
    id: 20,
    name: 'a hardlink to a target whited out earlier in the layer is refused',
    layers: [[{ name: 't' }], [{ name: '.wh.t' }, { name: 'h', type: 'link', linkname: 't' }]],
    want: unsafe('h', 1),
  },
  {
    id: 20,
    name: 'a hardlink to a missing target is refused',
    layers: [[{ name: 'h', type: 'link', linkname: 'nope' }]],
    want: unsafe('h'),
  },
  {
    id: 21,
    name: 'a hardlink replaces a lower file',
    layers: [
      [
        { name: 'a', content: 'a' },
        { name: 'b', content: 'b' },
      ],
      [{ name: 'b', type: 'link', linkname: 'a' }],
    ],
    want: contained([f('a', 'a', { mode: 0o644, inode: 'a' }), f('b', 'a', { mode: 0o644, inode: 'a' })]),
  },
  {
    id: 22,
    name: 'a hardlink whose parent has no entry gets a 0755 parent',
    layers: [
      [
        { name: 'a', content: 'a' },
        { name: 'p/q/h', type: 'link', linkname: 'a' },
      ],
    ],
    want: contained([
      f('a', 'a', { mode: 0o644, inode: 'a' }),
      d('p'),
      d('p/q'),
      f('p/q/h', 'a', { mode: 0o644, inode: 'a' }),
    ]),
  },
  {
    id: 23,
    name: 'absolute and relative symlink targets are kept verbatim',
    layers: [
      [
        { name: 'lib64', type: 'symlink', linkname: '/usr/lib64' },
        { name: 'usr/lib/rel', type: 'symlink', linkname: '../../etc/x' },
      ],
    ],
    want: contained([s('lib64', '/usr/lib64'), d('usr'), d('usr/lib'), s('usr/lib/rel', '../../etc/x')]),
  },
  // Whiteouts and ordering
  {
    id: 24,
    name: '.wh.x where x -> OUT removes the link only',
    layers: (c) => [
      [
        { name: 'x', type: 'symlink', linkname: c.out },
        { name: 'y', type: 'symlink', linkname: `${up}OUT` },
      ],
      [{ name: '.wh.x' }, { name: '.wh.y' }],
    ],
    want: contained([]),
  },
  {
    id: 25,
    name: 'd/.wh.secret where d -> absolute OUT stays inside lower/',
    layers: (c) => [
      [{ name: 'd', type: 'symlink', linkname: c.out }],
      [{ name: 'd/.wh.secret' }, { name: 'd/sub/.wh..wh..opq' }],
    ],
    want: contained((c) => [s('d', c.out)]),
  },
  { id: 26, name: 'a whiteout of .. is refused', layers: [[{ name: 'a/.wh...' }]], want: unsafe('a/.wh...') },
  {
    id: 26,
    name: 'a whiteout whose PAX path climbs out is refused',
    layers: [[{ name: 'w', pax: { path: `a/../${up}.wh.OUT` } }]],
    want: unsafe(`a/../${up}.wh.OUT`),
  },
  {
    id: 27,
    name: 'an opaque marker after same-layer siblings hides only lower content',
    layers: [[{ name: 'a/old' }], [{ name: 'a/new', content: 'n' }, { name: 'a/.wh..wh..opq' }]],
    want: contained([d('a'), f('a/new', 'n')]),
  },
  {
    id: 28,
    name: 'an opaque marker in a missing directory creates nothing',
    layers: [[{ name: 'b' }], [{ name: 'nope/.wh..wh..opq' }]],
    want: contained([f('b')]),
  },
  {
    id: 29,
    name: 'delete then recreate keeps only the new content',
    layers: [[{ name: 'a/foo' }], [{ name: '.wh.a' }], [{ name: 'a/baz' }]],
    want: contained([d('a'), f('a/baz')]),
  },
  {
    id: 30,
    name: 'whiteouts of a single-layer image are not materialised',
    layers: [[{ name: '.wh.ghost' }, { name: 'd/.wh..wh..opq' }, { name: 'd/f' }]],
    want: contained([d('d'), f('d/f')]),
  },
  {
    id: 31,
    name: 'AUFS metadata is skipped with a warning',
    layers: [[{ name: '.wh..wh.plnk/1.2', content: 'x' }, { name: 'f' }]],
    want: contained([f('f')]),
    stderr: [/skipped AUFS metadata/],
  },
  // Types, sizes, tar-format differentials
  {
    id: 32,
    name: 'dir -> file, file -> dir, symlink -> dir, dir -> symlink remove then recreate',
    layers: [
      [{ name: 'd1/f' }, { name: 'f1' }, { name: 's1', type: 'symlink', linkname: 't' }, { name: 'd2/x' }],
      [
        { name: 'd1', content: 'file' },
        { name: 'f1', type: 'dir' },
        { name: 's1', type: 'dir' },
        { name: 'd2', type: 'symlink', linkname: 'f1' },
      ],
    ],
    want: contained([f('d1', 'file'), s('d2', 'f1'), d('f1'), d('s1')]),
  },
  {
    id: 33,
    name: 'as root, device nodes are created inside lower/ (SPEC: created when permitted)',
    layers: [
      [
        { name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
        { name: 'dev/sda', type: 'block', mode: 0o660, devmajor: 8 },
      ],
    ],
    want: contained([d('dev'), 'dev/null char 0666 0:0', 'dev/sda block 0660 0:0']),
  },
  {
    id: 34,
    name: 'a FIFO is created and never opened, so extraction cannot block',
    layers: [
      [
        { name: 'run/p', type: 'fifo', mode: 0o600 },
        { name: 'after', content: 'a' },
      ],
    ],
    want: contained([f('after', 'a'), d('run'), 'run/p fifo 0600 0:0']),
  },
  {
    id: 35,
    name: 'GNU sparse entries are refused',
    layers: [[{ name: 'sparse', type: { typeflag: 'S' }, content: 'data' }]],
    want: corrupt('sparse'),
  },
  {
    id: 35,
    name: 'unknown typeflags are refused',
    layers: [[{ name: 'label', type: { typeflag: 'V' } }]],
    want: corrupt('label'),
  },
  {
    id: 36,
    name: 'a symlink with data hiding a header is refused',
    layers: [[{ name: 's', type: 'symlink', linkname: 't', content: hidden }]],
    want: corrupt('s'),
  },
  {
    id: 37,
    name: 'an entry after the end-of-archive marker is never extracted',
    layers: [{ entries: [{ name: 'a' }], after: hidden }],
    want: contained([f('a')]),
    stderr: [/non-zero bytes after the end-of-archive marker/],
  },
  {
    id: 36,
    name: 'a type-0 entry named "x/" hiding entries in its data is refused (Go: a file; others: a directory)',
    layers: [[{ name: 'x/', type: { typeflag: '0' }, content: hidden }]],
    want: corrupt('x/'),
  },
  {
    id: 37,
    name: 'an entry after a single zero block is refused, as Go refuses it',
    layers: [
      { blob: Buffer.concat([await buildTar([{ name: 'a' }], { endMarker: false }), Buffer.alloc(512), hidden]) },
    ],
    want: corrupt(),
  },
  {
    id: 37,
    name: "a global PAX size=0 does not turn the next file's data into entries",
    layers: [
      [
        { name: 'g', type: { typeflag: 'g' }, content: encodePax({ size: '0' }) },
        { name: 'f', content: hidden },
      ],
    ],
    want: contained([f('f', hidden)]),
    stderr: [/ignored 1 global PAX header/],
  },
  { id: 38, name: 'a negative base-256 size is refused', layers: [[{ name: 'neg', size: -2 }]], want: corrupt() },
  {
    id: 38,
    name: 'a size beyond the end of the stream is refused, no hang',
    layers: [{ entries: [{ name: 'big', content: 'abc', size: 1_000_000 }], endMarker: false }],
    want: corrupt(),
  },
  {
    id: 39,
    name: 'a PAX path climbing out is refused like a ustar name',
    layers: [[{ name: 'innocent', pax: { path: `${up}OUT/x` } }]],
    want: unsafe(`${up}OUT/x`),
  },
  {
    id: 40,
    name: 'a binary security.capability is applied byte for byte as root',
    layers: [
      [
        {
          name: 'ping',
          content: 'p',
          mode: 0o755,
          pax: { 'SCHILY.xattr.security.capability': Buffer.from('01000002002000000000000000000000c0ff0000', 'hex') },
        },
      ],
    ],
    want: contained([f('ping', 'p', { mode: 0o755 })]),
    check: async (lower) =>
      assert.deepEqual(await readXattrs(lower), [
        'ping security.capability=0x01000002002000000000000000000000c0ff0000',
      ]),
  },
  {
    id: 41,
    name: 'as root a setuid binary keeps its bit with its owner (rootless: rootless.integration.test.ts)',
    layers: [[{ name: 'su', content: 's', mode: 0o4755, uid: 0 }]],
    want: contained([f('su', 's', { mode: 0o4755 })]),
  },
  {
    id: 42,
    name: 'duplicates ./etc/x and etc/x: the last wins',
    layers: [
      [
        { name: './etc/x', content: 'first' },
        { name: 'etc/x', content: 'second' },
      ],
    ],
    want: contained([d('etc'), f('etc/x', 'second')]),
  },
  // Compression and resource exhaustion
  {
    id: 43,
    name: 'a gzip bomb stops at --max-bytes before the disk fills',
    flags: ['--max-bytes', '1048576'],
    layers: [[{ name: 'bomb', content: Buffer.alloc(20 << 20) }]],
    want: refused('LKVOL_LAYER_LIMIT', 'bomb'),
  },
  {
    id: 44,
    name: 'a zstd frame declaring a 2 GiB window is refused by the header check',
    layers: [{ blob: zstdWindow(31), diffId: sha256('') }],
    want: refused('LKVOL_LAYER_LIMIT'),
  },
  {
    id: 44,
    name: 'a zstd frame declaring a 1 GiB window is refused before allocation',
    layers: [{ blob: zstdWindow(30), diffId: sha256('') }],
    want: refused('LKVOL_LAYER_LIMIT'),
  },
  {
    id: 45,
    name: 'zstd with several frames and a skippable frame decodes',
    layers: [
      {
        entries: [
          { name: 'a', content: 'A' },
          { name: 'b', content: 'B' },
        ],
        compress: 'zstd',
      },
    ],
    want: contained([f('a', 'A'), f('b', 'B')]),
  },
  {
    id: 46,
    name: 'gzip followed by NUL padding is accepted',
    layers: [
      {
        blob: Buffer.concat([gzip(await tarOf([{ name: 'a' }])), Buffer.alloc(1024)]),
        diffId: sha256(await tarOf([{ name: 'a' }])),
      },
    ],
    want: contained([f('a')]),
  },
  {
    id: 46,
    name: 'gzip followed by garbage is refused',
    layers: [{ blob: Buffer.concat([gzip(await tarOf([{ name: 'a' }])), Buffer.from('garbage')]) }],
    want: corrupt(),
  },
  {
    id: 47,
    name: 'a layer labelled +gzip that is plain tar is sniffed and extracted',
    layers: [
      {
        entries: [{ name: 'plain', content: 'p' }],
        compress: 'none',
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      },
    ],
    want: contained([f('plain', 'p')]),
  },
  {
    id: 47,
    name: 'a layer labelled plain tar that is gzip is sniffed and extracted',
    layers: [
      {
        entries: [{ name: 'gz', content: 'g' }],
        compress: 'gzip',
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
      },
    ],
    want: contained([f('gz', 'g')]),
  },
  {
    id: 48,
    name: 'an uncompressed digest that differs from diff_ids is refused',
    diffIds: { 0: sha256('something else') },
    layers: [[{ name: 'a' }]],
    want: refused('LKVOL_DIGEST_MISMATCH'),
  },
  {
    id: 49,
    name: 'a blob cut off at 50 % on every request is resumed with Range and verified',
    layers: [[{ name: 'big', content: noise }]],
    fault: (l, digests) => (url) =>
      url.includes(`/blobs/${digests[0]}`) ? { kind: 'truncate', after: l[0]!.data.length >> 1 } : { kind: 'pass' },
    want: contained([f('big', noise)]),
  },
  {
    id: 49,
    name: 'a blob whose connection closes before any byte on every request fails and nothing is promoted',
    layers: [[{ name: 'big', content: noise }]],
    fault: (_, digests) => (url) =>
      url.includes(`/blobs/${digests[0]}`) ? { kind: 'truncate', after: 0 } : { kind: 'pass' },
    want: refused('LKVOL_REGISTRY_UNAVAILABLE'),
  },
  {
    id: 49,
    name: 'a blob cut off at 50 % once is fetched again and verified',
    layers: [[{ name: 'big', content: noise }]],
    fault: (l, digests) => (url, n) =>
      url.includes(`/blobs/${digests[0]}`) && n === 1
        ? { kind: 'truncate', after: l[0]!.data.length >> 1 }
        : { kind: 'pass' },
    want: contained([f('big', noise)]),
  },
  // Cache and concurrency. 62 (concurrent builds, one cache) and 63 (kill -9 mid-download/extraction):
  // owner: 'crash.integration.test.ts'. 64 (a cached blob corrupted on disk): build.integration.test.ts
  // "a corrupted cached blob is detected and fetched again".
];

const suite = useRegistry({ name: 'hostile' });

/** Builds one layer's blob as stored, its diffId and media type. */
async function layerInput(l: Layer): Promise<LayerInput> {
  if ('blob' in l)
    return {
      data: l.blob,
      diffId: l.diffId ?? sha256(tryGunzip(l.blob)),
      ...(l.mediaType === undefined ? {} : { mediaType: l.mediaType }),
    };
  const spec = Array.isArray(l)
    ? { entries: l as readonly TarEntry[] }
    : (l as Exclude<Layer, readonly TarEntry[] | { blob: Buffer }>);
  const tar = await buildTar(spec.entries, {
    ...(spec.after === undefined ? {} : { after: spec.after }),
    ...(spec.endMarker === undefined ? {} : { endMarker: spec.endMarker }),
  });
  const half = tar.subarray(0, 1024 * Math.floor(tar.length / 2048));
  const data =
    spec.compress === 'none'
      ? tar
      : spec.compress === 'zstd'
        ? Buffer.concat([skippable, zstd(half), zstd(tar.subarray(half.length), '--no-check')])
        : gzip(tar);
  return { data, diffId: sha256(tar), ...(spec.mediaType === undefined ? {} : { mediaType: spec.mediaType }) };
}

function tryGunzip(blob: Buffer): Buffer {
  try {
    return gunzipSync(blob);
  } catch {
    return blob;
  }
}

/** A sentinel directory OUT (a secret file and a subdirectory, fixed modes and times) beside the output. */
async function makeSentinel(dir: string): Promise<string> {
  const out = join(dir, 'OUT');
  await mkdir(join(out, 'sub'), { recursive: true, mode: 0o750 });
  await writeFile(join(out, 'secret'), 'secret\n', { mode: 0o640 });
  await writeFile(join(out, 'sub', 'file'), 'file\n', { mode: 0o600 });
  for (const p of [join(out, 'secret'), join(out, 'sub', 'file'), join(out, 'sub'), out])
    await utimes(p, 1_000_000, 1_000_000);
  return out;
}

let serial = 0;
async function runCase(t: TestContext, c: Case): Promise<void> {
  const dir = await suite.tempDir(t, `c${c.id}`);
  const ctx: Ctx = { out: await makeSentinel(dir) };
  const sentinel = await walkTree(ctx.out, { includeRoot: true });
  const inputs = await Promise.all((typeof c.layers === 'function' ? c.layers(ctx) : c.layers).map(layerInput));
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: inputs.map((l, i) => c.diffIds?.[i] ?? l.diffId) },
  };
  const repository = `hostile/c${c.id}-${++serial}`;
  const pushed = await pushImage({
    registry: suite.registry.host,
    repository,
    tag: '1',
    layers: inputs,
    format: 'oci',
    config,
  });
  const counts = new Map<string, number>();
  const decide = c.fault?.(inputs, pushed.layerDigests);
  const proxy =
    decide &&
    (await startFaultProxy(suite.registry.url, (req) =>
      decide(req.url ?? '', counts.set(req.url ?? '', (counts.get(req.url ?? '') ?? 0) + 1).get(req.url ?? '')!),
    ));
  if (proxy) t.after(() => proxy.close());
  await writeFile(
    join(dir, 'system.yml'),
    `volumes:\n  - name: v\n    image: ${proxy ? proxy.host : suite.registry.host}/${repository}:1\n`,
  );
  const out = join(dir, 'out');
  const args = [
    'build',
    '--progress',
    'plain',
    '-o',
    out,
    '--cache',
    join(dir, 'cache'),
    '--platform',
    'linux/amd64',
    ...(c.flags ?? []),
    join(dir, 'system.yml'),
  ];
  const r = await runInProcess(args, { env: { HOME: suite.work }, cwd: suite.work });
  if ('refused' in c.want) await assertRefused(r, c.want.refused, pushed.layerDigests, { dir, out });
  else
    await assertContained(
      r,
      typeof c.want.contained === 'function' ? c.want.contained(ctx) : c.want.contained,
      c,
      join(out, 'containers/volumes/v/lower'),
    );
  assert.deepEqual(await walkTree(ctx.out, { includeRoot: true }), sentinel, 'the sentinel beside the output changed');
  const beside = (await readdir(dir)).filter((n) => n !== 'cache').sort();
  assert.deepEqual(
    beside,
    'refused' in c.want ? ['OUT', 'system.yml'] : ['OUT', 'out', 'system.yml'],
    'nothing else (no .out.partial*) beside the output',
  );
}

async function assertRefused(
  r: { code: number; stderr: string },
  want: { code: ErrorCode; entry?: string; layer?: number },
  digests: string[],
  o: { dir: string; out: string },
): Promise<void> {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`\\(${want.code}\\)`), r.stderr);
  assert.ok(r.stderr.includes(digests[want.layer ?? 0]!), `stderr names the layer digest: ${r.stderr}`);
  if (want.entry !== undefined)
    assert.ok(
      r.stderr.includes(JSON.stringify(want.entry)),
      `stderr names entry ${JSON.stringify(want.entry)}: ${r.stderr}`,
    );
  await assert.rejects(stat(o.out), 'no output was promoted');
}

async function assertContained(
  r: { code: number; stderr: string },
  want: readonly string[],
  c: Case,
  lower: string,
): Promise<void> {
  assert.equal(r.code, 0, r.stderr);
  const tree = describeTree(await walkTree(lower, { includeRoot: want.some((l) => l.startsWith('. ')) }));
  assert.deepEqual(tree.sort(), [...want].sort());
  for (const p of c.stderr ?? []) assert.match(r.stderr, p);
  await c.check?.(lower);
}

for (const c of cases) test(`§3.3 #${c.id} ${c.name}`, (t) => runCase(t, c));
