// Table tests of the number and record parsers, against what Go's strconv and archive/tar accept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNumber } from './header.js';
import { parsePaxInt, parsePaxRecords, parsePaxTime } from './pax.js';

const field = (bytes: number[] | string, length = 12) => {
  const b = Buffer.alloc(length);
  if (typeof bytes === 'string') b.write(bytes, 'latin1');
  else Buffer.from(bytes).copy(b);
  return b;
};

const numbers: Array<[string, Buffer, number | undefined]> = [
  ['octal with a NUL terminator', field('0000644\0', 8), 0o644],
  ['leading and trailing spaces', field('  644 ', 8), 0o644],
  ['all NUL is zero', field([], 8), 0],
  ['all spaces is zero', field('        ', 8), 0],
  ['cut at the first NUL after trimming', field('12\x0034', 8), 0o12],
  ['a space inside is an error', field('6 44', 8), undefined],
  ['a non-octal digit is an error', field('0000089', 8), undefined],
  ['a byte just below "0" is an error', field('64/', 8), undefined],
  ['eleven octal digits, a size of 8 GiB - 1', field('77777777777\0'), 8 * 1024 ** 3 - 1],
  ['a sign is an error', field('+644', 8), undefined],
  ['base-256 positive', field([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), 256],
  [
    "base-256 negative (two's complement)",
    field([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb]),
    -5,
  ],
  ['base-256 beyond 2^63 is an error', field([0x80, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), undefined],
  ['base-256 beyond 2^53 is refused', field([0x80, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0]), undefined],
];
for (const [name, input, want] of numbers) test(`parseNumber: ${name}`, () => assert.equal(parseNumber(input), want));

const ints: Array<[string, number | undefined]> = [
  ['42', 42],
  ['+5', 5],
  ['-7', -7],
  ['007', 7],
  ['', undefined],
  ['0junk', undefined],
  ['1e3', undefined],
  [' 1', undefined],
  ['1_000', undefined],
  ['99999999999999999999', undefined],
];
for (const [input, want] of ints)
  test(`parsePaxInt(${JSON.stringify(input)})`, () => assert.equal(parsePaxInt(input), want));

const times: Array<[string, number | undefined]> = [
  ['5', 5],
  ['1.5', 1.5],
  ['1.', 1],
  ['-1.25', -1.25],
  ['1.1234567891', 1.123456789],
  ['1.2.3', undefined],
  ['.5', undefined],
  ['soon', undefined],
  ['1.x', undefined],
];
for (const [input, want] of times)
  test(`parsePaxTime(${JSON.stringify(input)})`, () => assert.equal(parsePaxTime(input), want));

test('parsePaxRecords: lengths may carry a sign or leading zeros, as strconv.ParseInt reads them', () => {
  assert.deepEqual(
    [...parsePaxRecords(Buffer.from('+8 a=bc\n010 a=bcd\n')).entries()].map(([k, v]) => [k, v.toString()]),
    [['a', 'bcd']],
  );
});

test('parsePaxRecords: values are bytes; a value may hold "=" and newlines', () => {
  const r = parsePaxRecords(Buffer.from('11 k=a=b\nc\n'));
  assert.equal(r.get('k')?.toString(), 'a=b\nc');
});

test('parsePaxRecords: NUL is refused in keys and in path-like values, allowed in other values', () => {
  assert.throws(() => parsePaxRecords(Buffer.from('12 path=a\0b\n')));
  assert.throws(() => parsePaxRecords(Buffer.from('8 a\0b=c\n')));
  assert.equal(parsePaxRecords(Buffer.from('8 k=a\0b\n')).get('k')?.length, 3);
});
