// Tests of checkVolumeRefs, the volume checks run again on binds and mounts read from an image label.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatConfigIssue } from '../errors.js';
import { parseConfig } from './load.js';
import { checkVolumeRefs } from './volume-refs.js';

const config = parseConfig([
  {
    file: 'sys.yml',
    text: 'volumes:\n  - name: assets\n    readonly: true\n  - name: scratch\nservices:\n  - name: web\n    image: nginx:1.27\n',
  },
]);
const web = config.services[0]!;
const origin = 'label org.mobyproject.config of docker.io/library/nginx:1.27';

const cases: {
  name: string;
  binds: string[];
  mounts?: { type?: string; source?: string; destination?: string; options?: string[] }[];
  want: string[];
}[] = [
  {
    name: 'declared volumes bound correctly pass',
    binds: ['assets:/a:ro', 'assets:/b:rshared,ro', 'scratch:/s', '/dev:/dev'],
    want: [],
  },
  {
    name: 'an undeclared volume in a label bind is reported at the image',
    binds: ['cache:/cache'],
    want: [
      `sys.yml:7:12: services[0].image: container "web" (${origin}): bind "cache:/cache": volume "cache" is not declared (declared volumes: assets, scratch)`,
    ],
  },
  {
    name: 'a read-only volume bound read-write by the label is reported',
    binds: ['assets:/srv:rshared'],
    want: [
      `sys.yml:7:12: services[0].image: container "web" (${origin}): bind "assets:/srv:rshared": volume "assets" is read-only; bind it with "ro", e.g. "assets:/srv:rshared,ro"`,
    ],
  },
  {
    name: 'label mounts get the same checks',
    binds: [],
    mounts: [
      { type: 'bind', source: 'assets', destination: '/m' },
      { type: 'bind', source: 'assets', destination: '/ok', options: ['ro'] },
    ],
    want: [
      `sys.yml:7:12: services[0].image: container "web" (${origin}): mount of volume "assets" on "/m": volume "assets" is read-only; add "ro" to its options`,
    ],
  },
  {
    name: 'malformed label binds are reported',
    binds: ['/only'],
    want: [
      `sys.yml:7:12: services[0].image: container "web" (${origin}): cannot parse bind "/only": missing ':' (want source:destination[:options])`,
    ],
  },
];

for (const c of cases) {
  test(c.name, () => {
    const issues = checkVolumeRefs(web, { binds: c.binds, mounts: c.mounts ?? [], volumes: config.volumes, origin });
    assert.deepEqual(issues.map(formatConfigIssue), c.want);
  });
}
