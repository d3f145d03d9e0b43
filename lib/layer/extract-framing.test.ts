// Layers built byte by byte whose framing other readers see differently: lkvol's tree is Go's, or the layer is refused.
import { test } from 'node:test';
import { runLayerCase, type LayerCase } from '../internal/testing/layer-sandbox.js';
import { buildTar, encodePax } from '../internal/testing/tar.js';
import { wantDir as d, wantFile as f } from '../internal/testing/tree.js';

const corrupt = (entry?: string) =>
  ({ code: 'LKVOL_LAYER_CORRUPT', layer: 0, ...(entry === undefined ? {} : { entry }) }) as const;
/**
 * An archive fragment (no end marker) that a reader could mistake for headers if it lands where a header is expected.
 */
const hidden = await buildTar([{ name: 'hidden', content: 'h' }], { endMarker: false });
/** A PAX header giving the *next* entry a capability and a user xattr: smuggled metadata. */
const fakePax = await buildTar(
  [
    {
      name: 'PaxHeader',
      type: { typeflag: 'x' },
      content: encodePax({
        'SCHILY.xattr.security.capability': Buffer.from('01000002002000000000000000000000', 'hex'),
        'SCHILY.xattr.user.smuggled': 'y',
      }),
    },
  ],
  { endMarker: false },
);

const cases: LayerCase[] = [
  {
    name: 'a type-0 entry named "x/" carrying hidden entries is refused',
    layers: [[{ name: 'x/', type: { typeflag: '0' }, content: hidden }, { name: 'after' }]],
    want: corrupt('x/'),
  },
  {
    name: 'a type-0 entry named "x/" whose data holds a fake PAX header is refused',
    layers: [
      [
        { name: 'x/', type: { typeflag: '0' }, content: fakePax },
        { name: 'victim', content: 'v' },
      ],
    ],
    want: corrupt('x/'),
  },
  {
    name: 'a NUL-type "x/" carrying data is refused',
    layers: [[{ name: 'x/', type: { typeflag: '\0' }, content: hidden }]],
    want: corrupt('x/'),
  },
  {
    name: 'a legacy NUL-type directory is a directory and its children extract',
    layers: [
      [
        { name: 'olddir/', type: { typeflag: '\0' }, mode: 0o750 },
        { name: 'olddir/child', content: 'c' },
      ],
    ],
    want: [d('olddir', 0o750), f('olddir/child', 'c')],
  },
  {
    name: 'a NUL-type entry whose long name ends in "/" is a directory',
    layers: [[{ name: 'x', type: { typeflag: '\0' }, pax: { path: 'longdir/' } }, { name: 'longdir/f' }]],
    want: [d('longdir', 0o644), f('longdir/f')],
  },
  {
    name: 'an entry after a single zero block is refused',
    layers: [
      { blob: Buffer.concat([await buildTar([{ name: 'a' }], { endMarker: false }), Buffer.alloc(512), hidden]) },
    ],
    want: corrupt(),
  },
  {
    name: 'an entry after the end-of-archive marker is ignored, with a warning',
    layers: [{ entries: [{ name: 'a' }], after: hidden }],
    want: [f('a')],
    warnings: ['LKVOL_WARN_TRAILING_DATA'],
  },
  {
    name: "a global PAX size=0 does not turn the next file's data into entries",
    layers: [
      [
        { name: 'g', type: { typeflag: 'g' }, content: encodePax({ size: '0' }) },
        { name: 'f', content: hidden },
      ],
    ],
    want: [f('f', hidden.toString('latin1'))],
    warnings: ['LKVOL_WARN_GLOBAL_PAX'],
  },
  {
    name: 'global PAX path, uid and gid neither rename nor re-own later entries',
    layers: [
      [
        {
          name: 'g',
          type: { typeflag: 'g' },
          content: encodePax({ path: 'renamed', uid: '666', gid: '666', mtime: '1' }),
        },
        { name: 'a', content: 'a' },
        { name: 'b', uid: 5 },
      ],
    ],
    want: [f('a', 'a'), f('b', '', { mode: 0o644, uid: 5 })],
    warnings: ['LKVOL_WARN_GLOBAL_PAX'],
  },
  {
    name: 'a PAX size that is not a number is refused',
    layers: [[{ name: 'a', content: 'x', pax: { size: '0junk' } }]],
    want: corrupt('a'),
  },
  {
    name: 'the old GNU names typeflag N is refused, not used as the next name',
    layers: [[{ name: 'N', type: { typeflag: 'N' }, content: 'victim\0' }, { name: 'next' }]],
    want: corrupt('N'),
  },
  {
    name: 'a GNU long name and a different PAX path are refused',
    layers: [[{ name: 'f', gnuLongName: 'gnu-name', pax: { path: 'pax-name' } }]],
    want: corrupt('pax-name'),
  },
  {
    name: 'a star header whose prefix reads differently as ustar is refused',
    layers: [[{ name: 'n', format: 'star', patch: (h) => h.write('p'.repeat(140), 345, 'latin1') }]],
    want: corrupt(),
  },
  {
    name: 'a malformed PAX record names the entry it belongs to',
    layers: [[{ name: 'PaxHeader', type: { typeflag: 'x' }, content: '9 a=b\n' }, { name: 'owner' }]],
    want: corrupt('owner'),
  },
];

for (const c of cases) test(c.name, (t) => runLayerCase(t, c));
