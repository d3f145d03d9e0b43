// Table tests of what Node cannot do alone: xattrs byte for byte, device nodes and FIFOs, rootless modes.
import assert from 'node:assert/strict';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runLayerCase, type LayerCase } from '../internal/testing/layer-sandbox.js';
import { encodePax } from '../internal/testing/tar.js';
import { readXattrs, wantDir as d, wantFile as f, wantSymlink as s } from '../internal/testing/tree.js';

/** A vfs_cap_data v2 struct (cap_net_raw, effective) with bytes that are not UTF-8. */
const cap = Buffer.from('01000002002000000000000000000000c0ff0000', 'hex');
/** A value with a NUL, a newline, `=` and invalid UTF-8: everything that breaks a string round trip. */
const binary = Buffer.from([0xc0, 0xff, 0x00, 0x0a, 0x3d, 0x80]);
const hex = (b: Buffer) => `0x${b.toString('hex')}`;

const xattrs = (want: string[]) => async (_: unknown, sb: { root: string }) =>
  assert.deepEqual(await readXattrs(sb.root), want.sort());
const corrupt = (layer: number, entry?: string) =>
  ({ code: 'LKVOL_LAYER_CORRUPT', layer, ...(entry === undefined ? {} : { entry }) }) as const;

const cases: LayerCase[] = [
  {
    name: 'as root, user.* and security.capability are applied byte for byte (case 40)',
    layers: [
      [
        {
          name: 'bin/ping',
          content: 'ELF',
          mode: 0o4755,
          uid: 1000,
          pax: { 'SCHILY.xattr.security.capability': cap, 'SCHILY.xattr.user.bin': binary },
        },
        { name: 'etc', type: 'dir', mode: 0o750, pax: { 'SCHILY.xattr.user.dir': 'd' } },
        {
          name: 'bin/ping6',
          type: 'link',
          linkname: 'bin/ping',
          pax: { 'SCHILY.xattr.user.ignored': 'hardlinks have no metadata of their own' },
        },
      ],
    ],
    want: [
      d('bin'),
      f('bin/ping', 'ELF', { mode: 0o4755, uid: 1000, inode: 'bin/ping' }),
      f('bin/ping6', 'ELF', { mode: 0o4755, uid: 1000, inode: 'bin/ping' }),
      d('etc', 0o750),
    ],
    check: xattrs([
      `bin/ping security.capability=${hex(cap)}`,
      `bin/ping user.bin=${hex(binary)}`,
      'bin/ping6 security.capability=' + hex(cap),
      `bin/ping6 user.bin=${hex(binary)}`,
      'etc user.dir=0x64',
    ]),
  },
  {
    name: 'a security.capability value the kernel refuses is a fault of the layer, naming the entry',
    layers: [
      [
        { name: 'bin/ok' },
        { name: 'bin/bad', content: 'x', pax: { 'SCHILY.xattr.security.capability': Buffer.from([1, 2, 3]) } },
      ],
    ],
    want: corrupt(0, 'bin/bad'),
  },
  {
    name: 'trusted.*, security.selinux, overlay and LIBARCHIVE xattrs are dropped with one warning',
    layers: [
      [
        {
          name: 'f',
          pax: {
            'SCHILY.xattr.trusted.x': '1',
            'SCHILY.xattr.security.selinux': 'system_u:object_r:bin_t:s0',
            'SCHILY.xattr.user.overlay.origin': 'o',
            'LIBARCHIVE.xattr.user.y': 'eQ==',
            'SCHILY.xattr.user.kept': 'k',
          },
        },
      ],
    ],
    want: [f('f')],
    warnings: ['LKVOL_WARN_XATTR_DROPPED'],
    check: xattrs(['f user.kept=0x6b']),
  },
  {
    name: 'a later layer replaces xattrs: a merged directory keeps only the new ones, a replaced file has none',
    layers: [
      [
        { name: 'd', type: 'dir', pax: { 'SCHILY.xattr.user.old': 'o', 'SCHILY.xattr.user.both': '1' } },
        { name: 'x', pax: { 'SCHILY.xattr.user.x': 'x' } },
      ],
      [
        { name: 'd', type: 'dir', pax: { 'SCHILY.xattr.user.both': '2' } },
        { name: 'x', content: 'new' },
      ],
    ],
    want: [d('d'), f('x', 'new')],
    check: xattrs(['d user.both=0x32']),
  },
  {
    name: 'xattrs of symlinks are dropped with a warning (Linux refuses user.* there)',
    layers: [[{ name: 'l', type: 'symlink', linkname: 't', pax: { 'SCHILY.xattr.user.l': 'l' } }]],
    want: [s('l', 't')],
    warnings: ['LKVOL_WARN_XATTR_DROPPED'],
    check: xattrs([]),
  },
  {
    name: 'xattrs of a global PAX header are ignored, as Go archive/tar does',
    layers: [
      [
        { name: 'global', type: { typeflag: 'g' }, content: encodePax({ 'SCHILY.xattr.user.g': 'g' }) },
        { name: 'f', pax: { mtime: '5' } },
      ],
    ],
    want: [f('f')],
    warnings: ['LKVOL_WARN_GLOBAL_PAX'],
    check: xattrs([]),
  },
  {
    name: 'a malformed PAX record is refused',
    layers: [[{ name: 'PaxHeader', type: { typeflag: 'x' }, content: '5 a=b\n' }, { name: 'f' }]],
    want: corrupt(0),
  },
  {
    name: 'an xattr name that is not UTF-8 is refused',
    layers: [
      [
        {
          name: 'PaxHeader',
          type: { typeflag: 'x' },
          content: Buffer.concat([Buffer.from('25 SCHILY.xattr.user.'), Buffer.from([0xff]), Buffer.from('=v\n')]),
        },
        { name: 'f' },
      ],
    ],
    want: corrupt(0),
  },
  {
    name: 'as root, char and block devices and FIFOs are created with owner, mode and numbers (cases 33, 34)',
    layers: [
      [
        { name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
        { name: 'dev/sda', type: 'block', mode: 0o660, gid: 6, devmajor: 8, devminor: 1 },
        { name: 'run/p', type: 'fifo', mode: 0o600, uid: 5 },
      ],
    ],
    want: [d('dev'), 'dev/null char 0666 0:0', 'dev/sda block 0660 0:6', d('run'), 'run/p fifo 0600 5:0'],
    check: (_, sb) => {
      assert.equal(lstatSync(join(sb.root, 'dev/null')).rdev, 0x103);
      assert.equal(lstatSync(join(sb.root, 'dev/sda')).rdev, 0x801);
    },
  },
  {
    name: 'a device replaces a lower file; a lower device is replaced by a file',
    layers: [
      [
        { name: 'a', content: 'file' },
        { name: 'b', type: 'fifo' },
      ],
      [
        { name: 'a', type: 'fifo' },
        { name: 'b', content: 'file' },
      ],
    ],
    want: ['a fifo 0644 0:0', f('b', 'file')],
  },
  {
    name: 'without ownership, skipped devices that a later layer removes or replaces are not reported',
    opts: { applyOwnership: false },
    layers: [
      [
        { name: 'dev/null', type: 'char' },
        { name: 'dev/zero', type: 'char' },
        { name: 'dev/tty', type: 'char' },
        { name: 'o/sda', type: 'block' },
        { name: 'o/keep', type: 'block' },
      ],
      [
        { name: 'dev/.wh.null' },
        { name: 'dev/zero', content: 'z' },
        { name: 'o/keep', type: 'block', devmajor: 9 },
        { name: 'o/.wh..wh..opq' },
      ],
    ],
    want: [d('dev'), f('dev/zero', 'z'), d('o')],
    warnings: ['LKVOL_WARN_DEVICE_SKIPPED', 'LKVOL_WARN_DEVICE_SKIPPED'],
    check: (a) =>
      assert.deepEqual(
        a.report.skipped.map((x) => `${x.path} ${x.devmajor}`),
        ['dev/tty 0', 'o/keep 9'],
      ),
  },
  {
    name: 'without ownership, read-only and mode-0 directories take later entries and get their mode at the end',
    opts: { applyOwnership: false },
    layers: [
      [
        { name: 'ro', type: 'dir', mode: 0o555 },
        { name: 'ro/a', content: 'a', mode: 0 },
        { name: 'none', type: 'dir', mode: 0 },
        { name: 'none/sub', type: 'dir', mode: 0o500 },
        { name: 'none/sub/f' },
      ],
      [
        { name: 'ro/b', content: 'b' },
        { name: 'ro/a', content: 'a2', mode: 0 },
        { name: 'ro/h', type: 'link', linkname: 'ro/a' },
        { name: 'none/sub/.wh.f' },
        { name: 'none/sub/g' },
      ],
    ],
    want: [
      d('none', 0),
      d('none/sub', 0o500),
      f('none/sub/g'),
      d('ro', 0o555),
      f('ro/a', 'a2', { mode: 0, inode: 'ro/a' }),
      f('ro/b', 'b'),
      f('ro/h', 'a2', { mode: 0, inode: 'ro/a' }),
    ],
    check: (a) => {
      const intended = (p: string) => a.report.intended.get(p);
      assert.deepEqual(intended('ro'), { uid: 0, gid: 0, mode: 0o555 });
      assert.deepEqual(intended('ro/h'), { uid: 0, gid: 0, mode: 0 });
      assert.deepEqual(intended('none/sub/g'), { uid: 0, gid: 0, mode: 0o644 });
    },
  },
];

for (const c of cases) test(c.name, (t) => runLayerCase(t, c));
