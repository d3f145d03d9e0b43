// stableJson: sorted keys by bytes, 2-space indent, final newline, bigint, undefined, refusals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLkvolError } from '../errors.js';
import { compareBytes } from './compare.js';
import { stableJson } from './stable-json.js';

test('keys sorted, arrays in order, 2-space indent, final newline', () => {
  assert.equal(
    stableJson({ b: [3, 1], a: { d: true, c: 'x' } }),
    '{\n  "a": {\n    "c": "x",\n    "d": true\n  },\n  "b": [\n    3,\n    1\n  ]\n}\n',
  );
});

test('empty objects and arrays stay inline', () =>
  assert.equal(stableJson({ a: {}, b: [] }), '{\n  "a": {},\n  "b": []\n}\n'));

test('bigint is written exactly', () =>
  assert.equal(stableJson({ n: 18446744073709551615n }), '{\n  "n": 18446744073709551615\n}\n'));

test('undefined values are left out; null is kept', () =>
  assert.equal(stableJson({ a: undefined, b: null }), '{\n  "b": null\n}\n'));

test('strings are JSON-escaped', () => assert.equal(stableJson(['a"b\n&<>']), '[\n  "a\\"b\\n&<>"\n]\n'));

test('the same value in another key order gives the same bytes', () => {
  assert.equal(stableJson({ x: 1, y: { q: 1, p: 2 } }), stableJson({ y: { p: 2, q: 1 }, x: 1 }));
});

test('keys compare by UTF-8 bytes, as Go sorts map keys', () => {
  assert.ok(compareBytes('B', 'a') < 0);
  // U+FF5E sorts before U+1F600 in UTF-8 but after it in UTF-16 code units.
  assert.ok(compareBytes('\uff5e', '\u{1f600}') < 0);
});

for (const [name, value] of [
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['a function', () => 1],
  ['a Map', new Map([['a', 1]])],
] as const) {
  test(`refuses ${name}`, () =>
    assert.throws(
      () => stableJson({ v: value }),
      (err) => isLkvolError(err, 'LKVOL_INTERNAL'),
    ));
}
