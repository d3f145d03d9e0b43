// Tests of entry checks: supported types, names as UTF-8, numbers in range, xattrs from PAX bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLkvolError, type ErrorCode } from '../errors.js';
import type { TarHeader } from '../tar/index.js';
import { normalizeEntry, type LayerEntry } from './entries.js';

const base: TarHeader = {
  format: 'ustar',
  typeflag: '0',
  name: 'f',
  linkname: '',
  size: 0,
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 5,
  devmajor: 0,
  devminor: 0,
  pax: new Map(),
  offset: 0,
  dataOffset: 512,
};
const latin1 = (bytes: number[]) => Buffer.from(bytes).toString('latin1');
/** A name as the tar reader hands it over: its UTF-8 bytes, one latin1 character each. */
const utf8AsLatin1 = (name: string) => Buffer.from(name, 'utf8').toString('latin1');
const pax = (records: Record<string, string | Buffer>) =>
  new Map(Object.entries(records).map(([k, v]) => [k, Buffer.from(v)]));

const cases: Array<{
  name: string;
  input: Partial<TarHeader>;
  want: Partial<LayerEntry> | { code: ErrorCode; message: RegExp };
}> = [
  { name: 'a regular file', input: {}, want: { name: 'f', kind: 'file', mode: 0o644, mtime: 5, linkname: '' } },
  { name: 'contiguous files are files', input: { typeflag: '7' }, want: { kind: 'file' } },
  { name: 'mode keeps the permission bits only', input: { mode: 0o104755 }, want: { mode: 0o4755 } },
  { name: 'UTF-8 names read as latin1 are decoded', input: { name: latin1([0xc3, 0xa9]) }, want: { name: 'é' } },
  {
    name: 'devices keep their numbers',
    input: { typeflag: '4', devmajor: 8, devminor: 1 },
    want: { kind: 'block', devmajor: 8, devminor: 1 },
  },
  { name: 'device numbers are zero for other kinds', input: { devmajor: 8 }, want: { devmajor: 0 } },
  { name: 'link targets of other kinds are dropped', input: { linkname: 'x' }, want: { linkname: '' } },
  {
    name: 'xattrs come from the PAX bytes, byte for byte',
    input: {
      pax: pax({ 'SCHILY.xattr.security.capability': Buffer.from([0xc0, 0xff]), 'LIBARCHIVE.xattr.user.a': 'dg==' }),
    },
    want: { xattrs: [{ name: 'security.capability', value: Buffer.from([0xc0, 0xff]) }], foreignXattrs: 1 },
  },
  { name: 'a time beyond what a Date holds becomes the epoch', input: { mtime: 1e15 }, want: { mtime: 0 } },
  { name: 'GNU sparse', input: { typeflag: 'S' }, want: { code: 'LKVOL_LAYER_CORRUPT', message: /GNU sparse/ } },
  {
    name: 'the old GNU names type',
    input: { typeflag: 'N' },
    want: { code: 'LKVOL_LAYER_CORRUPT', message: /unsupported entry type "N"/ },
  },
  {
    name: 'sparse PAX records',
    input: { pax: pax({ 'GNU.sparse.size': '10' }) },
    want: { code: 'LKVOL_LAYER_CORRUPT', message: /sparse/ },
  },
  { name: 'a negative uid', input: { uid: -1 }, want: { code: 'LKVOL_LAYER_CORRUPT', message: /invalid uid -1/ } },
  {
    name: 'a uid over 32 bits',
    input: { uid: 2 ** 32 },
    want: { code: 'LKVOL_LAYER_CORRUPT', message: /invalid uid/ },
  },
  {
    name: 'an invalid UTF-8 name',
    input: { name: latin1([0x66, 0xff]) },
    want: { code: 'LKVOL_LAYER_UNSAFE_PATH', message: /name is not valid UTF-8/ },
  },
  {
    name: 'an invalid UTF-8 symlink target names the entry, not the target',
    input: { typeflag: '2', name: 'link', linkname: latin1([0x74, 0xff]) },
    want: { code: 'LKVOL_LAYER_UNSAFE_PATH', message: /entry "link": symlink target is not valid UTF-8/ },
  },
  {
    name: 'an empty symlink target',
    input: { typeflag: '2', name: 'link' },
    want: { code: 'LKVOL_LAYER_CORRUPT', message: /entry "link": symlink with an empty target/ },
  },
  {
    name: 'a 256-byte name component',
    input: { name: `d/${'n'.repeat(256)}` },
    want: { code: 'LKVOL_LAYER_CORRUPT', message: /name component of 256 bytes \(at most 255\)/ },
  },
  { name: 'a 255-byte name component is fine', input: { name: `d/${'n'.repeat(255)}` }, want: { kind: 'file' } },
  {
    name: 'a component of 86 three-byte characters (258 bytes) is refused, short as the name is',
    input: { name: utf8AsLatin1(`d/${'€'.repeat(86)}`) },
    want: { code: 'LKVOL_LAYER_CORRUPT', message: /name component of 258 bytes/ },
  },
  {
    name: 'a component of 64 four-byte characters (256 bytes) is refused',
    input: { name: utf8AsLatin1('😀'.repeat(64)) },
    want: { code: 'LKVOL_LAYER_CORRUPT', message: /name component of 256 bytes/ },
  },
  {
    name: 'a component of 85 three-byte characters (255 bytes) is fine',
    input: { name: utf8AsLatin1('€'.repeat(85)) },
    want: { name: '€'.repeat(85) },
  },
  {
    name: 'ASCII control characters are kept as they are',
    input: { name: 'a\x01\x7fb' },
    want: { name: 'a\x01\x7fb' },
  },
  {
    name: 'an xattr name that is not UTF-8',
    input: { pax: new Map([['SCHILY.xattr.user.' + latin1([0xff]), Buffer.from('v')]]) },
    want: { code: 'LKVOL_LAYER_CORRUPT', message: /xattr name/ },
  },
];

for (const c of cases) {
  test(`normalizeEntry: ${c.name}`, () => {
    const run = () => normalizeEntry({ ...base, ...c.input }, 'sha256:abc');
    const want = c.want;
    if ('code' in want && want.code !== undefined) {
      assert.throws(
        run,
        (err) => isLkvolError(err, want.code) && err.message.includes('sha256:abc') && want.message.test(err.message),
      );
    } else {
      const got = run();
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof LayerEntry], v, k);
    }
  });
}
