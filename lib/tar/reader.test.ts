// Tests of the tar reader: Go's framing for every header form, and refusals where readers disagree.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { chunked } from '../internal/testing/layer-sandbox.js';
import { buildTar, encodePax, type TarEntry } from '../internal/testing/tar.js';
import { TarFormatError, TarReader, type TarHeader } from './reader.js';

interface Read {
  members: Array<{ header: TarHeader; data: string }>;
  trailing: number;
  globals: number;
}

async function read(archive: Buffer, chunkSize = 333): Promise<Read> {
  const reader = new TarReader(chunked(archive, chunkSize));
  const members: Read['members'] = [];
  for await (const m of reader.members()) {
    const parts: Buffer[] = [];
    for await (const chunk of m.body) parts.push(Buffer.from(chunk));
    members.push({ header: m.header, data: Buffer.concat(parts).toString('latin1') });
  }
  return { members, trailing: reader.trailingDataBytes, globals: reader.globalHeaders };
}

const names = (r: Read) => r.members.map((m) => m.header.name);

async function refused(archive: Buffer, reason: RegExp): Promise<void> {
  await assert.rejects(read(archive), (err) => {
    assert.ok(err instanceof TarFormatError, String(err));
    assert.match(err.message, reason);
    return true;
  });
}

const tar = (entries: TarEntry[], opts?: Parameters<typeof buildTar>[1]) => buildTar(entries, opts);

const ordinary: TarEntry[] = [
  { name: 'a', content: 'x'.repeat(700) },
  { name: `long/${'n'.repeat(150)}`, content: 'pax' },
  { name: 'd', type: 'dir' },
  { name: 'd/s', type: 'symlink', linkname: '../a' },
  { name: 'd/h', type: 'link', linkname: 'a' },
  { name: `gnu/${'g'.repeat(150)}`, content: 'gnu', longNames: 'gnu' },
  { name: 'fifo', type: 'fifo' },
  { name: 'dev', type: 'char', devmajor: 1, devminor: 3 },
];

for (const size of [1, 7, 333, 512, 100_000]) {
  test(`reads every member, whatever the chunking (chunks of ${size})`, async () => {
    const r = await read(await tar(ordinary), size);
    assert.deepEqual(names(r), [
      'a',
      `long/${'n'.repeat(150)}`,
      'd/',
      'd/s',
      'd/h',
      `gnu/${'g'.repeat(150)}`,
      'fifo',
      'dev',
    ]);
    assert.deepEqual(
      r.members.map((m) => m.header.typeflag),
      ['0', '0', '5', '2', '1', '0', '6', '3'],
    );
    assert.deepEqual(
      r.members.map((m) => m.data),
      ['x'.repeat(700), 'pax', '', '', '', 'gnu', '', ''],
    );
    assert.equal(r.members[3]?.header.linkname, '../a');
    assert.equal(r.members[7]?.header.devminor, 3);
    assert.equal(r.trailing, 0);
  });
}

test('a member whose body is not read is skipped', async () => {
  const reader = new TarReader(
    chunked(
      await tar([
        { name: 'a', content: 'x'.repeat(3000) },
        { name: 'b', content: 'y' },
      ]),
      100,
    ),
  );
  const seen: string[] = [];
  for await (const m of reader.members()) seen.push(m.header.name);
  assert.deepEqual(seen, ['a', 'b']);
});

test('header fields: mode, ids, mtime, base-256 numbers', async () => {
  const r = await read(await tar([{ name: 'f', mode: 0o4755, uid: 1000, gid: 0o77777777, mtime: 1_600_000_000 }]));
  assert.deepEqual(
    {
      mode: r.members[0]?.header.mode,
      uid: r.members[0]?.header.uid,
      gid: r.members[0]?.header.gid,
      mtime: r.members[0]?.header.mtime,
    },
    { mode: 0o4755, uid: 1000, gid: 0o77777777, mtime: 1_600_000_000 },
  );
});

test('PAX records override ustar fields, as Go merges them', async () => {
  const r = await read(
    await tar([
      {
        name: 'f',
        content: 'q'.repeat(1000),
        size: 0,
        uid: 1,
        pax: { size: '1000', uid: '70000', gid: '+5', mtime: '1.5', path: 'renamed', atime: '-3.25' },
      },
    ]),
  );
  const h = r.members[0]!.header;
  assert.deepEqual(
    { name: h.name, size: h.size, uid: h.uid, gid: h.gid, mtime: h.mtime },
    { name: 'renamed', size: 1000, uid: 70000, gid: 5, mtime: 1.5 },
  );
  assert.equal(r.members[0]?.data.length, 1000);
});

test('empty PAX values keep the ustar fields (Go skips them)', async () => {
  const r = await read(await tar([{ name: 'f', uid: 7, pax: { path: '', uid: '' } }]));
  assert.deepEqual([r.members[0]?.header.name, r.members[0]?.header.uid], ['f', 7]);
});

test('PAX values are bytes: xattrs keep binary values, names keep raw bytes', async () => {
  const r = await read(
    await tar([
      {
        name: 'f',
        pax: { 'SCHILY.xattr.security.capability': Buffer.from([0xc0, 0xff, 0]), path: Buffer.from([0x66, 0xe9]) },
      },
    ]),
  );
  const h = r.members[0]!.header;
  assert.deepEqual(h.pax.get('SCHILY.xattr.security.capability'), Buffer.from([0xc0, 0xff, 0]));
  assert.equal(h.name, Buffer.from([0x66, 0xe9]).toString('latin1'));
});

// End of archive (case 37 and the single-zero-block form)
test('two zero blocks end the archive; what follows is drained and counted, never read', async () => {
  const smuggled = await tar([{ name: 'smuggled', content: 'z' }]);
  const r = await read(Buffer.concat([await tar([{ name: 'a' }]), smuggled]), 100);
  assert.deepEqual(names(r), ['a']);
  assert.ok(r.trailing > 0);
});

test('zero padding after the marker is not trailing data', async () => {
  const r = await read(await tar([{ name: 'a' }], { after: Buffer.alloc(8192) }));
  assert.equal(r.trailing, 0);
});

test('an archive without a marker, or with one zero block, ends at the end of the stream (as in Go)', async () => {
  const bare = await tar([{ name: 'a' }, { name: 'b', content: 'b' }], { endMarker: false });
  assert.deepEqual(names(await read(bare)), ['a', 'b']);
  assert.deepEqual(names(await read(Buffer.concat([bare, Buffer.alloc(512)]))), ['a', 'b']);
});

test('a header right after a single zero block is refused (Go: invalid header)', async () => {
  const hidden = await tar([{ name: 'hidden' }], { endMarker: false });
  await refused(
    Buffer.concat([await tar([{ name: 'a' }], { endMarker: false }), Buffer.alloc(512), hidden]),
    /single zero block/,
  );
});

test('a block that only looks empty (checksum field set, rest zero) is a header, not an end marker', async () => {
  // NB: tar-stream called such a block empty; Go reads a v7 file with an empty name (lkvol then refuses that name).
  const fake = Buffer.alloc(512);
  fake.write('0000400\0', 148, 'latin1');
  const r = await read(Buffer.concat([fake, await tar([{ name: 'x' }])]));
  assert.deepEqual(
    r.members.map((m) => [m.header.name, m.header.format]),
    [
      ['', 'v7'],
      ['x', 'ustar'],
    ],
  );
});

test('truncated archives are refused, naming the entry whose data is cut', async () => {
  const archive = await tar([{ name: 'a', content: 'x'.repeat(2000) }], { endMarker: false });
  await refused(archive.subarray(0, 1000), /entry "a": archive ends 1512 bytes before the end of the data/);
  await refused(archive.subarray(0, 300), /ends inside a header block/);
});

test('a truncated final padding is tolerated, as Go does', async () => {
  const archive = await tar([{ name: 'a', content: 'abc' }], { endMarker: false });
  assert.deepEqual((await read(archive.subarray(0, 512 + 3))).members[0]?.data, 'abc');
});

// Checksums and numbers
test('a bad checksum is refused; a signed-sum checksum is accepted', async () => {
  const archive = await tar([{ name: 'a' }]);
  const bad = Buffer.from(archive);
  bad[0] = 0x62;
  await refused(bad, /checksum/);
  // A name byte >= 0x80 makes signed and unsigned sums differ: store the signed one.
  const signed = Buffer.from(await tar([{ name: Buffer.from([0x61, 0xe9]) }]));
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : signed[i]! < 0x80 ? signed[i]! : signed[i]! - 256;
  signed.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  assert.equal((await read(signed)).members.length, 1);
  // The same block with its unsigned sum (as written) passes; a sum that is neither is refused.
  assert.equal((await read(await tar([{ name: Buffer.from([0x61, 0xe9]) }]))).members.length, 1);
  const neither = Buffer.from(signed);
  neither.write((sum + 1).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  await refused(neither, /checksum/);
});

test('numeric fields that Go cannot parse are refused', async () => {
  await refused(await tar([{ name: 'a', patch: (h) => h.write('12x4\0', 100, 'latin1') }]), /mode field/);
  await refused(await tar([{ name: 'a', patch: (h) => h.write('1 2\0', 108, 'latin1') }]), /uid field/);
  await refused(await tar([{ name: 'a', patch: (h) => h.write('9\0', 329, 'latin1') }]), /devmajor field/);
});

test('octal fields may be padded with spaces and NULs', async () => {
  const r = await read(await tar([{ name: 'a', patch: (h) => h.write(' 644 \0\0\0', 100, 'latin1') }]));
  assert.equal(r.members[0]?.header.mode, 0o644);
});

test('negative sizes are refused, also when a PAX size would fix them', async () => {
  await refused(await tar([{ name: 'a', size: -5 }]), /negative size/);
  await refused(await tar([{ name: 'a', size: -5, pax: { size: '0' } }]), /negative size/);
  await refused(await tar([{ name: 'a', pax: { size: '-1' } }]), /negative size/);
});

test('PAX numbers must be whole numbers, as strconv.ParseInt reads them', async () => {
  await refused(await tar([{ name: 'a', content: 'x', pax: { size: '0junk' } }]), /PAX size "0junk" is not a number/);
  await refused(await tar([{ name: 'a', pax: { uid: '1e3' } }]), /PAX uid/);
  await refused(await tar([{ name: 'a', pax: { mtime: '1.2.3' } }]), /PAX mtime/);
  await refused(await tar([{ name: 'a', pax: { atime: 'soon' } }]), /PAX atime/);
});

test('malformed PAX records are refused', async () => {
  for (const payload of ['5 a=b\n', '6 a=b\n\n', '7 =b\n', 'x a=b\n', '20 path=x\n', '4 a\n']) {
    await refused(
      await tar([{ name: 'PaxHeader', type: { typeflag: 'x' }, content: payload }, { name: 'f' }]),
      /PAX record/,
    );
  }
  await refused(await tar([{ name: 'a', pax: { path: 'x\0y' } }]), /invalid PAX record "path"/);
});

test('a PAX or GNU long-name payload over 1 MiB is refused (Go: field too long)', async () => {
  await refused(
    await tar([{ name: 'L', type: { typeflag: 'L' }, content: 'n'.repeat(1024 * 1024 + 1) }, { name: 'f' }]),
    /at most 1048576/,
  );
});

// Legacy and regular types named like directories
test('a legacy NUL-type entry named "dir/" is a directory (Go), and its children extract', async () => {
  const r = await read(
    await tar([
      { name: 'olddir/', type: { typeflag: '\0' } },
      { name: 'olddir/child', content: 'c' },
    ]),
  );
  assert.deepEqual(
    r.members.map((m) => [m.header.name, m.header.typeflag]),
    [
      ['olddir/', '5'],
      ['olddir/child', '0'],
    ],
  );
});

test('a legacy NUL-type entry whose GNU long name ends in "/" is a directory', async () => {
  const long = `${'d'.repeat(120)}/`;
  const r = await read(await tar([{ name: 'short', type: { typeflag: '\0' }, gnuLongName: long }]));
  assert.deepEqual([r.members[0]?.header.name, r.members[0]?.header.typeflag], [long, '5']);
});

test('a legacy NUL-type file is a regular file', async () => {
  const r = await read(await tar([{ name: 'f', type: { typeflag: '\0' }, content: 'data' }]));
  assert.deepEqual([r.members[0]?.header.typeflag, r.members[0]?.data], ['0', 'data']);
});

test('a NUL-type directory carrying data is refused (Go reads the data as headers, others skip it)', async () => {
  const inner = await tar([{ name: 'hidden', content: 'h' }], { endMarker: false });
  await refused(
    await tar([{ name: 'd/', type: { typeflag: '\0' }, content: inner }]),
    /header-only entry \(typeflag "5"\) declares 1024 data bytes/,
  );
});

test('a type-0 entry named "x/" is refused, with or without data (Go: a file; tar-stream, GNU tar: a directory)', async () => {
  await refused(await tar([{ name: 'x/', type: { typeflag: '0' }, content: 'data' }]), /name ends in "\/"/);
  await refused(await tar([{ name: 'x/', type: { typeflag: '0' } }]), /name ends in "\/"/);
  await refused(await tar([{ name: 'x', type: { typeflag: '7' }, pax: { path: 'y/' } }]), /name ends in "\/"/);
});

test('header-only types that declare data are refused', async () => {
  for (const type of ['dir', 'symlink', 'link', 'fifo', 'char', 'block'] as const) {
    await refused(await tar([{ name: 'x', type, linkname: 'a', size: 5 }]), /header-only entry/);
  }
  await refused(
    await tar([{ name: 'x', type: 'symlink', linkname: 'a', pax: { size: '7' } }]),
    /declares 7 data bytes/,
  );
});

test('unknown typeflags are passed on with their data skipped by size, never read as long names', async () => {
  const r = await read(await tar([{ name: 'N', type: { typeflag: 'N' }, content: 'victim-name\0' }, { name: 'next' }]));
  assert.deepEqual(
    r.members.map((m) => [m.header.name, m.header.typeflag]),
    [
      ['N', 'N'],
      ['next', '0'],
    ],
  );
});

// Global PAX headers
test('global PAX headers are ignored entirely, and counted', async () => {
  const global: TarEntry = {
    name: 'pax_global_header',
    type: { typeflag: 'g' },
    content: encodePax({ size: '0', path: 'renamed', uid: '666' }),
  };
  const r = await read(await tar([global, { name: 'f', content: 'data', uid: 1 }, { name: 'g' }]));
  assert.deepEqual(
    r.members.map((m) => [m.header.name, m.data, m.header.uid]),
    [
      ['f', 'data', 1],
      ['g', '', 0],
    ],
  );
  assert.equal(r.globals, 1);
});

test('a global header between an extended header and its entry is refused', async () => {
  await refused(
    await tar([{ name: 'g', type: { typeflag: 'g' }, content: '', gnuLongName: 'long' }, { name: 'f' }]),
    /global PAX header between/,
  );
});

test('a malformed global header is refused (Go parses it too)', async () => {
  await refused(await tar([{ name: 'g', type: { typeflag: 'g' }, content: '5 a=b\n' }, { name: 'f' }]), /PAX record/);
});

// GNU long names and PAX names together
test('a GNU long name and a PAX path that disagree are refused; that agree are read', async () => {
  await refused(
    await tar([{ name: 'f', gnuLongName: 'from-gnu', pax: { path: 'from-pax' } }]),
    /GNU long name and PAX path disagree/,
  );
  await refused(
    await tar([
      { name: 'l', type: 'symlink', linkname: 't', gnuLongLink: 'gnu-target', pax: { linkpath: 'pax-target' } },
    ]),
    /GNU long link name and PAX linkpath disagree/,
  );
  const r = await read(await tar([{ name: 'f', gnuLongName: 'same', pax: { path: 'same' } }]));
  assert.equal(r.members[0]?.header.name, 'same');
});

test('a GNU long name applies to the next entry only, cut at its first NUL', async () => {
  const r = await read(await tar([{ name: 'short', gnuLongName: 'long\0junk' }, { name: 'plain' }]));
  assert.deepEqual(names(r), ['long', 'plain']);
});

test('two PAX headers, or two GNU long names, for one entry are refused', async () => {
  const pax: TarEntry = { name: 'PaxHeader', type: { typeflag: 'x' }, content: encodePax({ path: 'ab' }) };
  await refused(await tar([pax, pax, { name: 'f' }]), /two PAX headers/);
  await refused(
    await tar([
      { name: 'L', type: { typeflag: 'L' }, content: 'one\0' },
      { name: 'f', gnuLongName: 'two' },
    ]),
    /two GNU long names/,
  );
});

// Header formats
test('star headers use a 131-byte prefix; one that reads differently as ustar is refused', async () => {
  const ok = await tar([{ name: 'name', format: 'star', patch: (h) => h.write('pre', 345, 'latin1') }]);
  assert.equal((await read(ok)).members[0]?.header.name, 'pre/name');
  const ambiguous = await tar([
    { name: 'name', format: 'star', patch: (h) => h.write('p'.repeat(140), 345, 'latin1') },
  ]);
  await refused(ambiguous, /star header/);
});

test('GNU headers have no prefix; garbage in their atime field is refused', async () => {
  const ok = await tar([{ name: 'name', format: 'gnu', patch: (h) => h.write('\0junk', 345, 'latin1') }]);
  assert.equal((await read(ok)).members[0]?.header.name, 'name');
  await refused(
    await tar([{ name: 'name', format: 'gnu', patch: (h) => h.write('prefix', 345, 'latin1') }]),
    /GNU header/,
  );
});

test('v7 headers (no magic) are read as Go reads them: no prefix, no device numbers', async () => {
  const r = await read(
    await tar([{ name: 'old', format: 'v7', content: 'v7', patch: (h) => h.write('ignored', 345, 'latin1') }]),
  );
  assert.deepEqual([r.members[0]?.header.name, r.members[0]?.header.format, r.members[0]?.data], ['old', 'v7', 'v7']);
});

test('an empty stream is an empty archive', async () => {
  assert.deepEqual((await read(Buffer.alloc(0))).members, []);
  const reader = new TarReader(Readable.from([]));
  for await (const m of reader.members()) assert.fail(`unexpected member ${m.header.name}`);
});

test("dataOffset is where each member's bytes start, after its meta headers (archives are read in place from there)", async () => {
  const archive = await tar([
    { name: 'short', content: 'first' },
    { name: `long/${'n'.repeat(150)}`, content: 'second' },
    { name: 'gnu/' + 'g'.repeat(120), content: 'third', longNames: 'gnu' },
  ]);
  const r = await read(archive);
  assert.equal(r.members.length, 3);
  for (const m of r.members) {
    assert.equal(archive.toString('latin1', m.header.dataOffset, m.header.dataOffset + m.header.size), m.data);
    assert.ok(m.header.dataOffset > m.header.offset);
  }
  assert.equal(r.members[0]!.header.dataOffset, 512);
  // The PAX and GNU long-name headers come before the member's own header block.
  assert.ok(r.members[1]!.header.dataOffset - r.members[1]!.header.offset >= 3 * 512);
});
