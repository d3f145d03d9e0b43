import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareBytes } from './compare.js';

const byBuffers = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

test('compareBytes orders as the UTF-8 bytes do, across the BMP, surrogate pairs and lone surrogates', () => {
  const units = [
    'a',
    'B',
    '/',
    '\0',
    '~',
    '\u00e9',
    '\u07ff',
    '\u0800',
    '\ud7ff',
    '\ue000',
    '\uffef',
    '\ufffd',
    '\uffff',
  ];
  const pairs = ['\ud800\udc00', '\ud83d\ude00', '\udbff\udfff'];
  const lone = ['\ud800', '\udc00', '\udbff'];
  const atoms = [...units, ...pairs, ...lone];
  const strings = [''];
  for (const x of atoms) {
    strings.push(x);
    for (const y of atoms) strings.push(x + y, `ab${x}`, `ab${x}${y}`);
  }
  for (const a of strings)
    for (const b of strings)
      assert.equal(Math.sign(compareBytes(a, b)), Math.sign(byBuffers(a, b)), `${escape(a)} against ${escape(b)}`);
});

test('compareBytes sorts names the way Go would list them: U+E000 after a pair above U+FFFF only by bytes', () => {
  // By UTF-16 code units '\uff01' (ef bc 81) would sort after '\ud83d\ude00' (f0 9f 98 80); by bytes it comes first.
  assert.deepEqual(['\ud83d\ude00', '\uff01', 'z', 'a.txt', 'a'].sort(compareBytes), [
    'a',
    'a.txt',
    'z',
    '\uff01',
    '\ud83d\ude00',
  ]);
});
