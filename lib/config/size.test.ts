// Table tests of parseSize.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSize } from './size.js';

const cases: { name: string; input: string | number; want: number | RegExp }[] = [
  { name: 'a plain number is bytes', input: 1048576, want: 1048576 },
  { name: 'a numeric string is bytes', input: '4096', want: 4096 },
  { name: 'Ki is 1024', input: '1Ki', want: 1024 },
  { name: 'Mi is 1024^2', input: '512Mi', want: 512 * 2 ** 20 },
  { name: 'Gi is 1024^3', input: '2Gi', want: 2 * 2 ** 30 },
  { name: 'Ti is 1024^4', input: '1Ti', want: 2 ** 40 },
  { name: 'K is 1000', input: '3K', want: 3000 },
  { name: 'M is 1000^2', input: '5M', want: 5e6 },
  { name: 'G is 1000^3', input: '2G', want: 2e9 },
  { name: 'T is 1000^4', input: '1T', want: 1e12 },
  { name: 'lower-case units are accepted', input: '1mi', want: 2 ** 20 },
  { name: 'a trailing B is accepted', input: '1GiB', want: 2 ** 30 },
  // NB: exact arithmetic, so 1.1K is 1100 and not 1100.0000000000002.
  { name: 'a fraction that makes whole bytes', input: '1.1K', want: 1100 },
  { name: 'a binary fraction', input: '1.5Gi', want: 1.5 * 2 ** 30 },
  { name: 'zero is refused', input: '0', want: /must be greater than zero/ },
  { name: 'a fraction of a byte is refused', input: '0.5', want: /not a whole number of bytes/ },
  { name: 'an unknown unit is refused', input: '12XB', want: /invalid size "12XB"/ },
  { name: 'a space before the unit is refused', input: '10 Mi', want: /invalid size/ },
  { name: 'a negative size is refused', input: '-1', want: /invalid size/ },
  { name: 'more than 2^53-1 bytes is refused', input: '99999Pi', want: /too large/ },
];

for (const c of cases) {
  test(c.name, () => {
    const got = parseSize(c.input);
    if (typeof c.want === 'number') assert.deepEqual(got, { ok: true, bytes: c.want });
    else {
      assert.equal(got.ok, false);
      if (!got.ok) assert.match(got.reason, c.want);
    }
  });
}
