// Table tests of extractLayer fidelity: OCI whiteouts, replacement, links, modes, owners, names, formats.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzip } from '../internal/testing/tar.js';
import { buildLayer, runLayerCase, sha256Digest, type LayerCase } from '../internal/testing/layer-sandbox.js';
import { wantDir as d, wantFile as f, wantSymlink as s } from '../internal/testing/tree.js';

const long = (c: string, n: number) => c.repeat(n);

const cases: LayerCase[] = [
  {
    name: 'files, directories, modes (setuid, setgid, sticky, 0700, 0) and owners, PAX uid/gid',
    layers: [
      [
        { name: 'etc', type: 'dir' },
        { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
        { name: 'etc/shadow', content: 'root:*::0:::::\n', mode: 0o640, gid: 42 },
        { name: 'etc/gshadow', mode: 0 },
        { name: 'usr/bin/passwd', content: 'ELF', mode: 0o4755 },
        { name: 'usr/bin/wall', content: 'ELF2', mode: 0o2755, gid: 5 },
        { name: 'tmp', type: 'dir', mode: 0o1777 },
        { name: 'root', type: 'dir', mode: 0o700 },
        { name: 'home/user', type: 'dir', mode: 0o750, uid: 1000, gid: 1000 },
        { name: 'home/user/.profile', content: 'x', mode: 0o600, uid: 1000, gid: 1000 },
        { name: 'srv', type: 'dir', mode: 0o2775, uid: 1, gid: 2 },
        { name: 'big-ids', pax: { uid: '4000000', gid: '3000000' } },
      ],
    ],
    want: [
      f('big-ids', '', { mode: 0o644, uid: 4000000, gid: 3000000 }),
      d('etc'),
      f('etc/passwd', 'root:x:0:0::/root:/bin/sh\n'),
      f('etc/shadow', 'root:*::0:::::\n', { mode: 0o640, gid: 42 }),
      f('etc/gshadow', '', { mode: 0 }),
      d('home'), // NB: implicit parent, 0755 root:root
      d('home/user', 0o750, { uid: 1000, gid: 1000 }),
      f('home/user/.profile', 'x', { mode: 0o600, uid: 1000, gid: 1000 }),
      d('root', 0o700),
      d('srv', 0o2775, { uid: 1, gid: 2 }),
      d('tmp', 0o1777),
      d('usr'),
      d('usr/bin'),
      f('usr/bin/passwd', 'ELF', { mode: 0o4755 }),
      f('usr/bin/wall', 'ELF2', { mode: 0o2755, gid: 5 }),
    ],
  },
  {
    // A directory made with its final mode is not chmod-ed again; these are the ways it must be all the same.
    name: 'directory modes the umask or a replacement would spoil: 0775, 0777, 0555, made twice, implicit first',
    layers: [
      [
        { name: 'grp', type: 'dir', mode: 0o775 },
        { name: 'merged', type: 'dir', mode: 0o775 },
        { name: 'open', type: 'dir', mode: 0o777, uid: 3 },
        { name: 'ro', type: 'dir', mode: 0o555 },
        { name: 'ro/f', content: 'f' },
        { name: 'again', type: 'dir', mode: 0o750, uid: 7 },
        { name: 'again', content: 'a file now' },
        { name: 'again', type: 'dir', mode: 0o751 },
        { name: 'imp/x', content: 'x' },
        { name: 'imp', type: 'dir', mode: 0o750, uid: 7 },
        { name: 'twice', type: 'dir', mode: 0o751 },
        { name: 'twice', type: 'dir', mode: 0o755, gid: 4 },
      ],
      [{ name: 'merged', type: 'dir', mode: 0o770 }, { name: '.wh.open' }, { name: 'open', type: 'dir', mode: 0o707 }],
    ],
    want: [
      d('again', 0o751),
      d('grp', 0o775),
      d('imp', 0o750, { uid: 7 }),
      f('imp/x', 'x'),
      d('merged', 0o770),
      d('open', 0o707),
      d('ro', 0o555),
      f('ro/f', 'f'),
      d('twice', 0o755, { gid: 4 }),
    ],
  },
  {
    name: 'PAX and GNU long names and link targets',
    layers: [
      [
        { name: `long/${long('n', 200)}`, content: 'pax-long' },
        { name: `gnu/${long('g', 200)}`, content: 'gnu-long', longNames: 'gnu' },
        { name: 'lnk-pax', type: 'symlink', linkname: long('t', 150) },
        { name: 'lnk-gnu', type: 'symlink', linkname: long('u', 150), longNames: 'gnu' },
        { name: 'hl-long', type: 'link', linkname: `long/${long('n', 200)}`, longNames: 'gnu' },
      ],
    ],
    want: [
      d('gnu'),
      f(`gnu/${long('g', 200)}`, 'gnu-long'),
      d('long'),
      f(`long/${long('n', 200)}`, 'pax-long', { mode: 0o644, inode: 'hl-long' }),
      f('hl-long', 'pax-long', { mode: 0o644, inode: 'hl-long' }),
      s('lnk-gnu', long('u', 150)),
      s('lnk-pax', long('t', 150)),
    ],
  },
  {
    name: 'root entries ./, . and / set the root metadata only (case 5)',
    layers: [
      [
        { name: './', type: 'dir', mode: 0o750, uid: 7 },
        { name: 'a', content: '1' },
      ],
      [{ name: '.', type: 'dir', mode: 0o751, uid: 8 }],
      [{ name: '/', type: 'dir', mode: 0o755, uid: 9 }],
    ],
    includeRoot: true,
    want: [d('.', 0o755, { uid: 9 }), f('a', '1')],
  },
  {
    name: 'a whiteout removes a lower file and a whole lower directory',
    layers: [
      [
        { name: 'etc/a', content: 'a' },
        { name: 'etc/b', content: 'b' },
        { name: 'opt/app/bin/x', content: 'x' },
        { name: 'opt/keep' },
      ],
      [{ name: 'etc/.wh.a' }, { name: 'opt/.wh.app' }],
    ],
    want: [d('etc'), f('etc/b', 'b'), d('opt'), f('opt/keep')],
  },
  {
    name: 'same-layer x then .wh.x keeps x (whiteouts hide lower layers only)',
    layers: [[{ name: 'x', content: 'old' }], [{ name: 'x', content: 'new' }, { name: '.wh.x' }]],
    want: [f('x', 'new')],
  },
  ...(['whiteout first', 'whiteout last'] as const).map((order) => ({
    name: `.wh.a and same-layer a/b/c: lower content of a goes whatever the order (${order})`,
    layers: [
      [
        { name: 'a/old', content: 'old' },
        { name: 'a/b/oldb', content: 'oldb' },
        { name: 'a/b/keep-no' },
        { name: 'z', content: 'z' },
      ],
      order === 'whiteout first'
        ? [{ name: '.wh.a' }, { name: 'a/b/c', content: 'c' }]
        : [{ name: 'a/b/c', content: 'c' }, { name: '.wh.a' }],
    ],
    want: [d('a'), d('a/b'), f('a/b/c', 'c'), f('z', 'z')],
  })),
  {
    name: 'a metadata-only directory entry then its whiteout: the lower children go, the directory stays',
    layers: [
      [{ name: 'm/old', content: 'old' }, { name: 'm/sub/deep' }],
      [{ name: 'm', type: 'dir', mode: 0o700 }, { name: '.wh.m' }],
    ],
    want: [d('m', 0o700)],
  },
  {
    name: 'a whiteout after a same-layer file of that name keeps the file; a lower sibling is untouched',
    layers: [
      [
        { name: 'd/x', content: 'old' },
        { name: 'd/y', content: 'y' },
      ],
      [{ name: 'd/x', content: 'new' }, { name: 'd/.wh.x' }],
    ],
    want: [d('d'), f('d/x', 'new'), f('d/y', 'y')],
  },
  {
    name: 'an opaque marker after same-layer siblings keeps them and hides lower content (case 27)',
    layers: [
      [{ name: 'a/old', content: 'old' }, { name: 'a/sub/old2' }],
      [{ name: 'a/new', content: 'new' }, { name: 'a/sub/new2' }, { name: 'a/.wh..wh..opq' }],
    ],
    // NB: a/sub is kept (it leads to a same-layer file) but its lower child goes.
    want: [d('a'), f('a/new', 'new'), d('a/sub'), f('a/sub/new2')],
  },
  {
    name: 'an opaque marker before siblings empties the directory first',
    layers: [
      [{ name: 'a/old' }],
      [{ name: 'a', type: 'dir', mode: 0o700 }, { name: 'a/.wh..wh..opq' }, { name: 'a/new' }],
    ],
    want: [d('a', 0o700), f('a/new')],
  },
  {
    name: 'an opaque marker for a missing directory creates nothing (case 28)',
    layers: [[{ name: 'b' }], [{ name: 'nope/.wh..wh..opq' }]],
    want: [f('b')],
  },
  {
    name: 'an opaque marker at the root hides all lower content',
    layers: [
      [{ name: 'a' }, { name: 'd/x' }],
      [{ name: '.wh..wh..opq' }, { name: 'n' }],
    ],
    want: [f('n')],
  },
  {
    name: 'delete then recreate across layers keeps only the new content (case 29)',
    layers: [[{ name: 'a/foo' }], [{ name: '.wh.a' }], [{ name: 'a/baz' }]],
    want: [d('a'), f('a/baz')],
  },
  {
    name: 'whiteouts are never materialised, also in a single-layer image (case 30)',
    layers: [
      [
        { name: '.wh.ghost' },
        { name: 'd/.wh..wh..opq' },
        { name: 'd/f' },
        { name: 'e/.wh.x', content: 'data in a whiteout' },
      ],
    ],
    want: [d('d'), f('d/f')],
  },
  {
    name: 'AUFS metadata is skipped with a warning (case 31)',
    layers: [
      [
        { name: '.wh..wh.plnk', type: 'dir' },
        { name: '.wh..wh.plnk/123.456', content: 'x' },
        { name: '.wh..wh.aufs' },
        { name: 'f' },
      ],
    ],
    want: [f('f')],
    warnings: ['LKVOL_WARN_AUFS_SKIPPED'],
  },
  {
    name: 'hardlinks: same layer, earlier layer, absolute target, symlink target, replacing a file, implicit parent (cases 19, 21, 22)',
    layers: [
      [
        { name: 'bin/busybox', content: 'bb', mode: 0o755 },
        { name: 'etc/os-release', content: 'v1' },
        { name: 'lib64', type: 'symlink', linkname: '/usr/lib64' },
        { name: 'h3', content: 'old' },
      ],
      [
        { name: 'bin/sh', type: 'link', linkname: 'bin/busybox' },
        { name: 'bin/ls', type: 'link', linkname: '/bin/busybox' },
        { name: 'sbin/init', type: 'link', linkname: './bin/busybox' },
        { name: 'lib64-link', type: 'link', linkname: 'lib64' },
        { name: 'h3', type: 'link', linkname: 'etc/os-release' },
        { name: 'n', content: 'n' },
        { name: 'n2', type: 'link', linkname: 'n' },
      ],
    ],
    want: [
      d('bin'),
      f('bin/busybox', 'bb', { mode: 0o755, inode: 'bin/busybox' }),
      f('bin/ls', 'bb', { mode: 0o755, inode: 'bin/busybox' }),
      f('bin/sh', 'bb', { mode: 0o755, inode: 'bin/busybox' }),
      d('etc'),
      f('etc/os-release', 'v1', { mode: 0o644, inode: 'etc/os-release' }),
      f('h3', 'v1', { mode: 0o644, inode: 'etc/os-release' }),
      s('lib64', '/usr/lib64', { inode: 'lib64' }),
      s('lib64-link', '/usr/lib64', { inode: 'lib64' }),
      f('n', 'n', { mode: 0o644, inode: 'n' }),
      f('n2', 'n', { mode: 0o644, inode: 'n' }),
      d('sbin'),
      f('sbin/init', 'bb', { mode: 0o755, inode: 'bin/busybox' }),
    ],
  },
  {
    name: 'symlink targets are stored verbatim, absolute, relative or dangling (case 23)',
    layers: [
      [
        { name: 'lib64', type: 'symlink', linkname: '/usr/lib64' },
        { name: 'usr/lib/rel', type: 'symlink', linkname: '../../etc/x' },
        { name: 'up', type: 'symlink', linkname: '../../../..' },
      ],
    ],
    want: [s('lib64', '/usr/lib64'), d('usr'), d('usr/lib'), s('usr/lib/rel', '../../etc/x'), s('up', '../../../..')],
  },
  {
    name: 'type changes remove then recreate: dir→file, file→dir, symlink→dir, dir→symlink, file→symlink (case 32)',
    layers: [
      [
        { name: 'd1/f' },
        { name: 'f1', content: 'f1' },
        { name: 's1', type: 'symlink', linkname: 'target' },
        { name: 'd2/x' },
        { name: 'f2', content: 'x' },
      ],
      [
        { name: 'd1', content: 'now a file' },
        { name: 'f1', type: 'dir', mode: 0o700 },
        { name: 's1', type: 'dir' },
        { name: 'd2', type: 'symlink', linkname: 'f1' },
        { name: 'f2', type: 'symlink', linkname: 'f1' },
      ],
      [{ name: 'd2/inner', content: 'through link' }],
    ],
    want: [f('d1', 'now a file'), s('d2', 'f1'), d('f1', 0o700), f('f1/inner', 'through link'), s('f2', 'f1'), d('s1')],
  },
  {
    name: 'a directory over a directory merges: new metadata, children kept',
    layers: [
      [{ name: 'd', type: 'dir' }, { name: 'd/keep' }],
      [{ name: 'd', type: 'dir', mode: 0o700, uid: 5 }, { name: 'd/new' }],
    ],
    want: [d('d', 0o700, { uid: 5 }), f('d/keep'), f('d/new')],
  },
  {
    name: 'duplicates ./etc/x and etc/x in one layer: the last wins (case 42)',
    layers: [
      [
        { name: './etc/x', content: 'first' },
        { name: 'etc/x', content: 'second' },
      ],
    ],
    want: [d('etc'), f('etc/x', 'second')],
  },
  {
    name: 'without ownership: devices are skipped with one summary warning, FIFOs are made (cases 33, 34)',
    opts: { applyOwnership: false },
    layers: [
      [
        { name: 'dev', type: 'dir' },
        { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3 },
        { name: 'dev/sda', type: 'block', devmajor: 8 },
        { name: 'run/fifo', type: 'fifo', mode: 0o600 },
        { name: 'keep' },
      ],
    ],
    want: [d('dev'), d('run'), 'run/fifo fifo 0600 0:0', f('keep')],
    warnings: ['LKVOL_WARN_DEVICE_SKIPPED'],
    check: (a) =>
      assert.deepEqual(
        a.report.skipped.map((x) => `${x.path} ${x.kind} ${x.devmajor}:${x.devminor}`),
        ['dev/null char 1:3', 'dev/sda block 8:0'],
      ),
  },
  {
    name: 'without ownership: PAX xattrs are dropped with a warning',
    opts: { applyOwnership: false },
    layers: [
      [{ name: 'ping', content: 'p', pax: { 'SCHILY.xattr.security.capability': 'x', 'SCHILY.xattr.user.a': 'b' } }],
    ],
    want: [f('ping', 'p')],
    warnings: ['LKVOL_WARN_XATTR_DROPPED'],
  },
  {
    name: 'without ownership: files keep the invoking user and lose setuid/setgid (case 41)',
    opts: { applyOwnership: false },
    layers: [
      [
        { name: 'su', content: 's', mode: 0o4755 },
        { name: 'f', mode: 0o2644, uid: 1000 },
        { name: 'd', type: 'dir', mode: 0o2775, uid: 1000 },
      ],
    ],
    // NB: tests run as root, so "the invoking user" is 0:0; setgid on a directory is kept.
    want: [f('su', 's', { mode: 0o755 }), f('f', '', { mode: 0o644 }), d('d', 0o2775)],
  },
  {
    name: 'gzip with several members and trailing NUL padding is read (case 46)',
    layers: [
      {
        blob: await (async () => {
          const { tar } = await buildLayer([
            { name: 'a', content: 'A' },
            { name: 'b/c', content: 'C' },
          ]);
          return Buffer.concat([gzip(tar.subarray(0, 1000)), gzip(tar.subarray(1000)), Buffer.alloc(1024)]);
        })(),
      },
    ],
    want: [f('a', 'A'), d('b'), f('b/c', 'C')],
  },
  {
    name: 'an entry after the end-of-archive marker is ignored but hashed (case 37)',
    layers: [
      { entries: [{ name: 'a' }], after: await buildLayer([{ name: 'smuggled', content: 'x' }]).then((l) => l.tar) },
    ],
    want: [f('a')],
    warnings: ['LKVOL_WARN_TRAILING_DATA'],
    check: async (applied) => {
      const { tar } = await buildLayer({
        entries: [{ name: 'a' }],
        after: (await buildLayer([{ name: 'smuggled', content: 'x' }])).tar,
      });
      assert.equal(applied.results[0]?.diffId, sha256Digest(tar));
      assert.equal(applied.results[0]?.entries, 1);
    },
  },
  {
    name: 'an archive without an end marker is accepted (as Go does)',
    layers: [{ entries: [{ name: 'a', content: 'a' }], endMarker: false, gzip: true }],
    want: [f('a', 'a')],
  },
  {
    name: 'the byte cap adds up over the volume and names sizeLimit',
    opts: { volumeLimits: { maxBytes: 15, limitName: 'sizeLimit of volume "data"' } },
    layers: [[{ name: 'a', content: '0123456789' }], [{ name: 'b', content: '0123456789' }]],
    want: { code: 'LKVOL_LAYER_LIMIT', layer: 1, entry: 'b' },
  },
  {
    name: 'the entry cap counts every entry',
    opts: { volumeLimits: { maxEntries: 3 } },
    layers: [[{ name: 'a' }, { name: '.wh.x' }, { name: 'dev/null', type: 'char' }, { name: 'd' }]],
    want: { code: 'LKVOL_LAYER_LIMIT', layer: 0 },
  },
  {
    name: 'the depth cap counts path components',
    opts: { limits: { maxDepth: 3 } },
    layers: [[{ name: 'a/b/c' }, { name: 'a/b/c2/d' }]],
    want: { code: 'LKVOL_LAYER_LIMIT', layer: 0, entry: 'a/b/c2/d' },
  },
];

for (const c of cases) test(c.name, (t) => runLayerCase(t, c));
