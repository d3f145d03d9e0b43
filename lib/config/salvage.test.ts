// What is kept of a file the schema refuses, so the rules can still be checked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { salvage } from './salvage.js';

const bad = (...path: (string | number)[]) => ({ path, unknownKey: false });

test('an unreadable entry stands in by its name (and a container by its image, or a placeholder)', () => {
  const data = {
    volumes: [{ name: 'v', readonly: 'ture' }, { readonly: 1 }],
    services: [
      { name: 's', image: 7, uid: [] },
      { name: 't', image: 'alpine', uid: [] },
    ],
  };
  assert.deepEqual(
    salvage(data, [
      bad('volumes', 0, 'readonly'),
      bad('volumes', 1, 'name'),
      bad('services', 0, 'image'),
      bad('services', 0, 'uid'),
      bad('services', 1, 'uid'),
    ]),
    {
      volumes: [{ name: 'v' }],
      services: [
        { name: 's', image: 'lkvol.invalid/unreadable-entry:0' },
        { name: 't', image: 'alpine' },
      ],
    },
  );
});

test('unknown keys go, passed-over sections go, the rest is kept', () => {
  const data = { kernel: { image: 5 }, volumes: [{ name: 'v', nmae: 'x' }] };
  assert.deepEqual(salvage(data, [bad('kernel', 'image'), { path: ['volumes', 0, 'nmae'], unknownKey: true }]), {
    volumes: [{ name: 'v' }],
  });
});

test('nothing can be salvaged from a file that is not a mapping, or a section that is not a list', () => {
  assert.equal(salvage(['x'], [bad()]), undefined);
  assert.equal(salvage({ volumes: 'v' }, [bad('volumes')]), undefined);
});
