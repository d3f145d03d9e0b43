// Hostile layers (reference §3.3 cases 1–49): each is refused or contained, and OUT beside the root never changes.
import { test } from 'node:test';
import { buildTar, gzip } from '../internal/testing/tar.js';
import { runLayerCase, type LayerCase, type Sandbox } from '../internal/testing/layer-sandbox.js';
import { wantDir as d, wantFile as f, wantSymlink as s } from '../internal/testing/tree.js';

/** The directories an absolute host path creates when re-rooted inside the volume, and the path itself. */
function rerooted(sb: Sandbox): { dirs: string[]; path: string } {
  const parts = sb.out.slice(1).split('/');
  return { dirs: parts.map((_, i) => d(parts.slice(0, i + 1).join('/'))), path: parts.join('/') };
}

const unsafe = (layer: number, entry: string) => ({ code: 'LKVOL_LAYER_UNSAFE_PATH', layer, entry }) as const;
const corrupt = (layer: number, entry?: string) =>
  ({ code: 'LKVOL_LAYER_CORRUPT', layer, ...(entry === undefined ? {} : { entry }) }) as const;
const hidden = await buildTar([{ name: '../../OUT/hidden', content: 'h' }], { endMarker: false });

const cases: LayerCase[] = [
  // Paths and names (cases 1–9)
  {
    name: '../OUT/pwn is refused (case 1)',
    layers: [[{ name: '../OUT/pwn', content: 'pwn' }]],
    want: unsafe(0, '../OUT/pwn'),
  },
  {
    name: '../../OUT/pwn is refused (case 1)',
    layers: [[{ name: 'ok' }, { name: '../../OUT/pwn', content: 'pwn' }]],
    want: unsafe(0, '../../OUT/pwn'),
  },
  {
    name: 'absolute names are taken relative to the root (case 2)',
    layers: (sb) => [
      [{ name: '/OUT/pwn', content: 'pwn' }, { name: `${sb.out}/pwn2`, content: 'pwn2' }, { name: '//etc///x' }],
    ],
    want: (sb) => [
      d('OUT'),
      f('OUT/pwn', 'pwn'),
      ...rerooted(sb).dirs,
      f(`${rerooted(sb).path}/pwn2`, 'pwn2'),
      d('etc'),
      f('etc/x'),
    ],
  },
  { name: 'a/../../x is refused (case 3)', layers: [[{ name: 'a/../../x' }]], want: unsafe(0, 'a/../../x') },
  { name: './../x is refused (case 3)', layers: [[{ name: './../x' }]], want: unsafe(0, './../x') },
  {
    name: 'a/./b/../../.. is refused (case 3)',
    layers: [[{ name: 'a/./b/../../..', type: 'dir' }]],
    want: unsafe(0, 'a/./b/../../../'),
  },
  // NB: "/.." is "/" to a kernel, but lkvol refuses any ".." that climbs above the root, leading "/" or not.
  { name: '/../x is refused like ../x', layers: [[{ name: '/../x' }]], want: unsafe(0, '/../x') },
  {
    name: 'a NUL byte in a PAX path is refused (case 4)',
    layers: [[{ name: 'x', pax: { path: 'a\0b' } }]],
    want: corrupt(0, 'x'),
  },
  {
    name: 'backslashes and drive prefixes are ordinary name bytes on Linux (case 4)',
    layers: [
      [
        { name: '..\\..\\OUT\\pwn', content: 'x' },
        { name: 'C:..\\x', content: 'y' },
      ],
    ],
    want: [f('..\\..\\OUT\\pwn', 'x'), f('C:..\\x', 'y')],
  },
  {
    name: 'a root entry that is a symlink is refused (case 6, CVE-2021-29136)',
    layers: (sb) => [[{ name: '.', type: 'symlink', linkname: sb.out }, { name: 'etc/x' }]],
    want: unsafe(0, '.'),
  },
  { name: 'a root entry that is a file is refused', layers: [[{ name: '.', content: 'x' }]], want: unsafe(0, '.') },
  {
    name: 'a name that is exactly .wh. is refused (case 7)',
    layers: [[{ name: 'd/.wh.' }]],
    want: unsafe(0, 'd/.wh.'),
  },
  {
    name: 'a path longer than PATH_MAX is a limit of the layer, not a host fault',
    layers: [[{ name: `${'abcd/'.repeat(900)}f` }]],
    want: { code: 'LKVOL_LAYER_LIMIT', layer: 0 },
  },
  {
    name: '1100 nested directories hit the default depth cap (case 8)',
    layers: [[{ name: `${'a/'.repeat(1100)}f` }]],
    want: { code: 'LKVOL_LAYER_LIMIT', layer: 0 },
  },
  {
    name: 'names that are not UTF-8 are refused, never merged (case 9)',
    layers: [[{ name: Buffer.from([0x66, 0xff]) }, { name: Buffer.from([0x66, 0xfe]) }]],
    want: { code: 'LKVOL_LAYER_UNSAFE_PATH', layer: 0 },
  },
  // Symlinks and hardlinks (cases 10–23)
  {
    name: 'same layer: d -> ../OUT then d/pwn writes inside the root (case 10)',
    layers: [
      [
        { name: 'd', type: 'symlink', linkname: '../OUT' },
        { name: 'd/pwn', content: 'pwn' },
      ],
    ],
    want: [s('d', '../OUT'), d('OUT'), f('OUT/pwn', 'pwn')],
  },
  {
    name: 'same layer: d -> absolute host OUT then d/pwn writes inside the root (case 10)',
    layers: (sb) => [
      [
        { name: 'd', type: 'symlink', linkname: sb.out },
        { name: 'd/pwn', content: 'pwn' },
      ],
    ],
    want: (sb) => [s('d', sb.out), ...rerooted(sb).dirs, f(`${rerooted(sb).path}/pwn`, 'pwn')],
  },
  {
    name: 'cross-layer: d -> ../OUT, then d/pwn in the next layer (case 11, GNU tar CVE-2025-45582)',
    layers: [[{ name: 'd', type: 'symlink', linkname: '../OUT' }], [{ name: 'd/pwn', content: 'pwn' }]],
    want: [s('d', '../OUT'), d('OUT'), f('OUT/pwn', 'pwn')],
  },
  {
    name: 'a directory swapped for a symlink mid-layer is re-resolved (case 12, CVE-2025-47290)',
    layers: [
      [
        { name: 'd', type: 'dir' },
        { name: 'd/f' },
        { name: 'd', type: 'symlink', linkname: '../OUT' },
        { name: 'd/g', content: 'g' },
      ],
    ],
    want: [s('d', '../OUT'), d('OUT'), f('OUT/g', 'g')],
  },
  // The cache of known real directories (dir-cache.ts) must forget every path that is removed or replaced.
  {
    name: 'dir cache: a whiteout then a symlink in place of a known directory tree is re-resolved',
    layers: [
      [{ name: 'd/sub/f' }],
      [{ name: '.wh.d' }, { name: 'd', type: 'symlink', linkname: '../OUT' }, { name: 'd/sub/x', content: 'x' }],
    ],
    want: [s('d', '../OUT'), d('OUT'), d('OUT/sub'), f('OUT/sub/x', 'x')],
  },
  {
    name: 'dir cache: an opaque marker then a symlink in place of a known subdirectory is re-resolved',
    layers: [
      [{ name: 'a/b/c/f' }],
      [
        { name: 'a/.wh..wh..opq' },
        { name: 'a/b', type: 'symlink', linkname: '../../OUT' },
        { name: 'a/b/c/g', content: 'g' },
      ],
    ],
    want: [d('a'), s('a/b', '../../OUT'), d('OUT'), d('OUT/c'), f('OUT/c/g', 'g')],
  },
  {
    name: 'dir cache: a known parent replaced by a file, then by a symlink, is re-resolved',
    layers: [
      [{ name: 'p/q/r/f' }],
      [{ name: 'p', content: 'file now' }],
      [
        { name: 'p', type: 'symlink', linkname: '/OUT' },
        { name: 'p/q/r/g', content: 'g' },
      ],
    ],
    want: [s('p', '/OUT'), d('OUT'), d('OUT/q'), d('OUT/q/r'), f('OUT/q/r/g', 'g')],
  },
  {
    name: 'dir cache: a hardlink target under a directory swapped for a symlink is resolved again',
    layers: [
      [
        { name: 't/f', content: 'inside' },
        { name: 'OUT/f', content: 'decoy' },
      ],
      [
        { name: 't', type: 'symlink', linkname: 'OUT' },
        { name: 'h', type: 'link', linkname: 't/f' },
      ],
    ],
    want: [
      d('OUT'),
      f('OUT/f', 'decoy', { mode: 0o644, inode: 'OUT/f' }),
      s('t', 'OUT'),
      f('h', 'decoy', { mode: 0o644, inode: 'OUT/f' }),
    ],
  },
  {
    name: 'a chain a -> b -> c -> ../../OUT stays inside (case 13)',
    layers: [
      [
        { name: 'a', type: 'symlink', linkname: 'b' },
        { name: 'b', type: 'symlink', linkname: 'c' },
        { name: 'c', type: 'symlink', linkname: '../../OUT' },
        { name: 'a/x', content: 'x' },
      ],
    ],
    want: [s('a', 'b'), s('b', 'c'), s('c', '../../OUT'), d('OUT'), f('OUT/x', 'x')],
  },
  {
    name: 'a symlink loop is refused (case 14)',
    layers: [
      [{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: 'a' }, { name: 'a/x' }],
    ],
    want: unsafe(0, 'a/x'),
  },
  {
    name: 'entries over a symlink to OUT replace the link, never touch its target (case 15, CVE-2021-32760)',
    layers: (sb) => [
      [
        { name: 's', type: 'symlink', linkname: `${sb.out}/secret` },
        { name: 't', type: 'symlink', linkname: '../OUT/sub' },
        { name: 'u', type: 'symlink', linkname: `${sb.out}/secret` },
      ],
      [
        { name: 's', type: 'dir', mode: 0o777 },
        { name: 't', content: 'replaced', mode: 0o666 },
        { name: 'u', type: 'symlink', linkname: 'elsewhere', uid: 5 },
      ],
    ],
    want: [d('s', 0o777), f('t', 'replaced', { mode: 0o666 }), s('u', 'elsewhere', { uid: 5 })],
  },
  {
    name: 'directory metadata is not applied through a symlink that replaced the directory later in the layer',
    layers: (sb) => [
      [
        { name: 'd', type: 'dir', mode: 0o777, mtime: 5 },
        { name: 'd', type: 'symlink', linkname: sb.out },
      ],
    ],
    want: (sb) => [s('d', sb.out)],
  },
  {
    name: 'a hardlink to ../OUT/secret is refused (case 16)',
    layers: [[{ name: 'h', type: 'link', linkname: '../OUT/secret' }]],
    want: unsafe(0, 'h'),
  },
  {
    name: 'an absolute hardlink target is resolved inside the root (case 17)',
    layers: [[{ name: 'etc/passwd', content: 'root' }], [{ name: 'h', type: 'link', linkname: '/etc/passwd' }]],
    want: [
      d('etc'),
      f('etc/passwd', 'root', { mode: 0o644, inode: 'etc/passwd' }),
      f('h', 'root', { mode: 0o644, inode: 'etc/passwd' }),
    ],
  },
  {
    name: 'an absolute hardlink to the host OUT/secret finds nothing in the root (case 17)',
    layers: (sb) => [[{ name: 'h', type: 'link', linkname: `${sb.out}/secret` }]],
    want: unsafe(0, 'h'),
  },
  {
    name: 'a hardlink through a symlinked parent d -> ../OUT is refused (case 18)',
    layers: [
      [
        { name: 'd', type: 'symlink', linkname: '../OUT' },
        { name: 'h', type: 'link', linkname: 'd/secret' },
      ],
    ],
    want: unsafe(0, 'h'),
  },
  {
    name: 'a hardlink through a symlinked parent d -> absolute OUT is refused (case 18)',
    layers: (sb) => [
      [{ name: 'd', type: 'symlink', linkname: sb.out }],
      [{ name: 'h', type: 'link', linkname: 'd/secret' }],
    ],
    want: unsafe(1, 'h'),
  },
  {
    name: 'a hardlink to a missing target is refused (case 20)',
    layers: [[{ name: 'h', type: 'link', linkname: 'nope' }]],
    want: unsafe(0, 'h'),
  },
  {
    name: 'a hardlink to a target whited out earlier in the layer is refused (case 20)',
    layers: [[{ name: 't' }], [{ name: '.wh.t' }, { name: 'h', type: 'link', linkname: 't' }]],
    want: unsafe(1, 'h'),
  },
  {
    name: 'a hardlink to a directory is refused',
    layers: [
      [
        { name: 'dir', type: 'dir' },
        { name: 'h', type: 'link', linkname: 'dir' },
      ],
    ],
    want: unsafe(0, 'h'),
  },
  {
    name: 'a hardlink to the root is refused',
    layers: [[{ name: 'h', type: 'link', linkname: './' }]],
    want: unsafe(0, 'h'),
  },
  {
    name: 'a hardlink target climbing above the root is refused',
    layers: [[{ name: 'h', type: 'link', linkname: 'a/../../OUT/secret' }]],
    want: unsafe(0, 'h'),
  },
  // Whiteouts (cases 24–31)
  {
    name: '.wh.x where x -> ../OUT removes the link only (case 24)',
    layers: (sb) => [
      [
        { name: 'x', type: 'symlink', linkname: '../OUT' },
        { name: 'y', type: 'symlink', linkname: sb.out },
      ],
      [{ name: '.wh.x' }, { name: '.wh.y' }],
    ],
    want: [],
  },
  {
    name: 'd/.wh.secret where d -> absolute OUT resolves inside the root (case 25)',
    layers: (sb) => [
      [{ name: 'd', type: 'symlink', linkname: sb.out }],
      [{ name: 'd/.wh.secret' }, { name: 'd/.wh..wh..opq' }],
    ],
    want: (sb) => [s('d', sb.out)],
  },
  {
    name: 'd/.wh.secret where d -> ../OUT removes the in-root OUT/secret only (case 25)',
    layers: [
      [{ name: 'OUT/secret' }, { name: 'OUT/sub/file' }, { name: 'd', type: 'symlink', linkname: '../OUT' }],
      [{ name: 'd/.wh.secret' }, { name: 'd/sub/.wh..wh..opq' }],
    ],
    want: [s('d', '../OUT'), d('OUT'), d('OUT/sub')],
  },
  { name: 'a whiteout of .. is refused (case 26)', layers: [[{ name: 'a/.wh...' }]], want: unsafe(0, 'a/.wh...') },
  { name: 'a whiteout of . is refused (case 26)', layers: [[{ name: 'a/.wh..' }]], want: unsafe(0, 'a/.wh..') },
  {
    name: 'a PAX path whiteout climbing out is refused (case 26)',
    layers: [[{ name: 'w', pax: { path: 'a/../../.wh.OUT' } }]],
    want: unsafe(0, 'a/../../.wh.OUT'),
  },
  // Types, sizes, tar-format differentials (cases 32–42)
  {
    name: 'as root, device nodes and FIFOs are created inside the root only, never opened (cases 33, 34)',
    layers: (sb) => [
      [
        { name: 'OUT', type: 'char', devmajor: 1, devminor: 3 },
        { name: 'fifo', type: 'fifo' },
        { name: 'd', type: 'symlink', linkname: sb.out },
        { name: 'd/blk', type: 'block', devmajor: 8 },
      ],
    ],
    want: (sb) => [
      'OUT char 0644 0:0',
      'fifo fifo 0644 0:0',
      s('d', sb.out),
      ...rerooted(sb).dirs,
      `${rerooted(sb).path}/blk block 0644 0:0`,
    ],
  },
  {
    name: 'GNU sparse entries (typeflag S) are refused (case 35)',
    layers: [[{ name: 'sparse', type: { typeflag: 'S' }, content: 'data' }]],
    want: corrupt(0, 'sparse'),
  },
  {
    name: 'unknown typeflags are refused (case 35)',
    layers: [[{ name: 'label', type: { typeflag: 'V' } }]],
    want: corrupt(0, 'label'),
  },
  {
    name: 'PAX sparse records are refused (case 35)',
    layers: [[{ name: 'sp', content: 'x', pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0' } }]],
    want: corrupt(0, 'sp'),
  },
  {
    name: 'a symlink with data hiding a header is refused (case 36)',
    layers: [[{ name: 's', type: 'symlink', linkname: 't', content: hidden }]],
    want: corrupt(0, 's'),
  },
  {
    name: 'a hardlink with data is refused (case 36)',
    layers: [[{ name: 't' }, { name: 'h', type: 'link', linkname: 't', content: hidden }]],
    want: corrupt(0, 'h'),
  },
  {
    name: 'a directory with data is refused (case 36)',
    layers: [[{ name: 'd', type: 'dir', content: hidden }]],
    want: corrupt(0, 'd/'),
  },
  {
    name: 'a FIFO with data is refused (case 36)',
    layers: [[{ name: 'p', type: 'fifo', content: hidden }]],
    want: corrupt(0, 'p'),
  },
  {
    name: 'an entry after the end-of-archive marker is never extracted (case 37)',
    layers: [{ entries: [{ name: 'a' }], after: hidden, gzip: true }],
    want: [f('a')],
    warnings: ['LKVOL_WARN_TRAILING_DATA'],
  },
  { name: 'a negative base-256 size is refused (case 38)', layers: [[{ name: 'neg', size: -2 }]], want: corrupt(0) },
  {
    name: 'a size beyond the end of the stream is refused (case 38)',
    layers: [{ entries: [{ name: 'big', content: 'abc', size: 1_000_000 }], endMarker: false }],
    want: corrupt(0),
  },
  {
    name: 'a PAX path ../../x is refused (case 39)',
    layers: [[{ name: 'innocent', pax: { path: '../../x' } }]],
    want: unsafe(0, '../../x'),
  },
  {
    name: 'a PAX linkpath ../OUT/secret is refused (case 39)',
    layers: [[{ name: 'h', type: 'link', linkname: 't', pax: { linkpath: '../OUT/secret' } }]],
    want: unsafe(0, 'h'),
  },
  {
    name: 'a parent that is a regular file is refused, not written through',
    layers: [[{ name: 'f' }, { name: 'f/x' }]],
    want: corrupt(0, 'f/x'),
  },
  // Compression and resource exhaustion (cases 43–48)
  {
    name: 'a gzip bomb stops at the byte cap before the file is written (case 43)',
    opts: { volumeLimits: { maxBytes: 1 << 20 }, chunkSize: 1 << 16 },
    layers: [{ blob: gzip(await buildTar([{ name: 'bomb', content: Buffer.alloc(20 << 20) }])) }],
    want: { code: 'LKVOL_LAYER_LIMIT', layer: 0, entry: 'bomb' },
  },
  {
    name: 'trailing garbage after the gzip stream is refused (case 46)',
    layers: [{ blob: Buffer.concat([gzip(await buildTar([{ name: 'a' }])), Buffer.from('garbage')]) }],
    want: corrupt(0),
  },
  {
    name: 'a truncated gzip stream is refused (case 49)',
    layers: [{ blob: gzip(await buildTar([{ name: 'a', content: 'x'.repeat(5000) }])).subarray(0, 40) }],
    want: corrupt(0),
  },
  { name: 'plain bytes that are not tar are refused', layers: [{ blob: Buffer.alloc(1024, 0x41) }], want: corrupt(0) },
];

for (const c of cases) test(c.name, (t) => runLayerCase(t, c));
