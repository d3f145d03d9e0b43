// Rlimits: RLIMIT_ prefix, case, unlimited = 2^64-1, the 16 known names, malformed entries.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLkvolError } from '../errors.js';
import { resolveContainerConfig } from './precedence.js';
import { buildRlimits, knownRlimits, rlimitUnlimited } from './rlimits.js';
import { stableJson } from '../internal/stable-json.js';

const rlimits = (list: string[]) =>
  buildRlimits(resolveContainerConfig({ yaml: { name: 'c', image: 'i', rlimits: list }, label: undefined }));

describe('buildRlimits', () => {
  const cases = [
    {
      name: 'RLIMIT_ is prepended',
      input: ['nofile,1024,2048'],
      want: [{ type: 'RLIMIT_NOFILE', hard: 2048n, soft: 1024n }],
    },
    {
      name: 'names are upper-cased and trimmed',
      input: [' rlimit_core , 0 , 0 '],
      want: [{ type: 'RLIMIT_CORE', hard: 0n, soft: 0n }],
    },
    {
      name: 'unlimited (any case) is 2^64-1',
      input: ['memlock,Unlimited,UNLIMITED'],
      want: [{ type: 'RLIMIT_MEMLOCK', hard: rlimitUnlimited, soft: rlimitUnlimited }],
    },
    {
      name: 'the largest uint64 is accepted',
      input: ['as,18446744073709551615,0'],
      want: [{ type: 'RLIMIT_AS', hard: 0n, soft: 18446744073709551615n }],
    },
    {
      name: 'order is kept',
      input: ['nproc,1,1', 'cpu,2,2'],
      want: [
        { type: 'RLIMIT_NPROC', hard: 1n, soft: 1n },
        { type: 'RLIMIT_CPU', hard: 2n, soft: 2n },
      ],
    },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(rlimits(c.input), c.want));

  test('every one of the 16 names is accepted', () => {
    assert.equal(knownRlimits.length, 16);
    assert.deepEqual(
      rlimits(knownRlimits.map((n) => `${n},1,1`)).map((r) => r.type),
      knownRlimits,
    );
  });

  test('unlimited serializes as the exact integer 18446744073709551615', () => {
    assert.equal(
      stableJson(rlimits(['nofile,unlimited,1'])[0]),
      '{\n  "hard": 1,\n  "soft": 18446744073709551615,\n  "type": "RLIMIT_NOFILE"\n}\n',
    );
  });

  const bad = [
    {
      name: 'unknown name, named in the message (LinuxKit leaves it empty)',
      input: 'bogus,1,1',
      want: /unknown limit "RLIMIT_BOGUS"/,
    },
    { name: 'two fields', input: 'nofile,1', want: /want name,soft,hard/ },
    { name: 'four fields (LinuxKit SplitN: hard is "2,3")', input: 'nofile,1,2,3', want: /cannot parse "2,3"/ },
    { name: 'a negative number', input: 'nofile,-1,1', want: /cannot parse "-1"/ },
    { name: 'above 2^64-1', input: 'nofile,18446744073709551616,1', want: /unsigned 64-bit/ },
    { name: 'not a number', input: 'nofile,lots,1', want: /cannot parse "lots"/ },
  ];
  for (const c of bad) {
    test(`refuses ${c.name}`, () => {
      assert.throws(
        () => rlimits([c.input]),
        (err) => isLkvolError(err, 'LKVOL_CONFIG_INVALID') && c.want.test(err.message),
      );
    });
  }
});
