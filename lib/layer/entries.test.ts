// Tests of header normalization: types, PAX overrides, refused headers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLkvolError, type ErrorCode } from '../errors.js';
import { normalizeEntry, type LayerEntry, type RawHeader } from './entries.js';
import type { PaxXattrs } from './pax.js';

const base: RawHeader = { name: 'f', type: 'file', size: 0, mode: 0o644, uid: 0, gid: 0, mtime: new Date(5000), linkname: null, pax: null };
const latin1 = (bytes: number[]) => Buffer.from(bytes).toString('latin1');

const cases: Array<{ name: string; input: Partial<RawHeader>; raw?: PaxXattrs; want: Partial<LayerEntry> | ErrorCode }> = [
  { name: 'a regular file', input: {}, want: { name: 'f', kind: 'file', mode: 0o644, mtime: 5, linkname: '' } },
  { name: 'contiguous files are files', input: { type: 'contiguous-file' }, want: { kind: 'file' } },
  { name: 'mode keeps the permission bits only', input: { mode: 0o104755 }, want: { mode: 0o4755 } },
  { name: 'PAX uid, gid and fractional mtime win', input: { uid: 1, gid: 2, pax: { uid: '70000', gid: '80000', mtime: '1700000000.25' } }, want: { uid: 70000, gid: 80000, mtime: 1700000000.25 } },
  { name: 'UTF-8 names read as latin1 are decoded', input: { name: latin1([0xc3, 0xa9]) }, want: { name: 'é' } },
  { name: 'PAX names are taken as tar-stream decoded them', input: { name: 'é', pax: { path: 'é' } }, want: { name: 'é' } },
  { name: 'devices keep their numbers', input: { type: 'block-device', devmajor: 8, devminor: 1 }, want: { kind: 'block', devmajor: 8, devminor: 1 } },
  { name: 'device numbers are zero for other kinds', input: { devmajor: 8 }, want: { devmajor: 0 } },
  { name: 'xattrs come from the raw PAX bytes, never from tar-stream\'s decoded pax', input: { pax: { 'SCHILY.xattr.user.a': '\uFFFD' } }, want: { xattrs: [], foreignXattrs: 0 } },
  {
    name: 'raw PAX xattrs are kept byte for byte',
    input: {},
    raw: { xattrs: [{ name: 'security.capability', value: Buffer.from([0xc0, 0xff]) }], foreign: 1 },
    want: { xattrs: [{ name: 'security.capability', value: Buffer.from([0xc0, 0xff]) }], foreignXattrs: 1 },
  },
  { name: 'an unreadable mtime becomes the epoch', input: { mtime: new Date(NaN) }, want: { mtime: 0 } },
  { name: 'unknown type', input: { type: null }, want: 'LKVOL_LAYER_CORRUPT' },
  { name: 'symlink with data', input: { type: 'symlink', size: 1 }, want: 'LKVOL_LAYER_CORRUPT' },
  { name: 'sparse', input: { pax: { 'GNU.sparse.size': '10' } }, want: 'LKVOL_LAYER_CORRUPT' },
  { name: 'bad PAX uid', input: { pax: { uid: '-1' } }, want: 'LKVOL_LAYER_CORRUPT' },
  { name: 'bad PAX mtime', input: { pax: { mtime: 'soon' } }, want: 'LKVOL_LAYER_CORRUPT' },
  { name: 'unparseable ustar uid', input: { uid: NaN }, want: 'LKVOL_LAYER_CORRUPT' },
  { name: 'invalid UTF-8 name', input: { name: latin1([0x66, 0xff]) }, want: 'LKVOL_LAYER_UNSAFE_PATH' },
  { name: 'PAX name with a replacement character', input: { name: 'a\uFFFD', pax: { path: 'a\uFFFD' } }, want: 'LKVOL_LAYER_UNSAFE_PATH' },
];

for (const c of cases) {
  test(`normalizeEntry: ${c.name}`, () => {
    const run = () => normalizeEntry({ ...base, ...c.input }, 'sha256:abc', c.raw);
    if (typeof c.want === 'string') {
      const code = c.want;
      assert.throws(run, (err) => isLkvolError(err, code) && err.message.includes('sha256:abc'));
    } else {
      const got = run();
      for (const [k, v] of Object.entries(c.want)) assert.deepEqual(got[k as keyof LayerEntry], v, k);
    }
  });
}
