// The real executable stays silent with -q when many images or blobs are in flight: no Node process warning on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pushTarImage } from '../lib/internal/testing/images.js';
import { repoRoot } from '../lib/internal/testing/testdata.js';
import { useRegistry } from '../lib/internal/testing/use-registry.js';

const suite = useRegistry({ name: 'warnings' });

suite.before(async () => {
  for (let i = 0; i < 20; i++)
    await pushTarImage({
      registry: suite.registry.host,
      repository: `many/c${i}`,
      tag: '1',
      layers: [[{ name: 'bin/app', content: `app ${i}` }]],
    });
  const layers = Array.from({ length: 24 }, (_, i) => [{ name: `f${i}`, content: `layer ${i}` }]);
  await pushTarImage({ registry: suite.registry.host, repository: 'many/data', tag: '1', layers });
});

const service = (i: number) => `  - name: s${i}\n    image: REGISTRY/many/c${i}:1\n`;

// Node warns (MaxListenersExceededWarning) at 11 abort listeners on one signal; each case passes that
// many concurrent requests, which used to share the build's signal.
const cases = [
  {
    name: '20 container images resolving at once',
    flags: [],
    yaml: `services:\n${Array.from({ length: 20 }, (_, i) => service(i)).join('')}`,
  },
  {
    name: 'a 24-layer volume downloading with --jobs 16',
    flags: ['--jobs', '16'],
    yaml: `volumes:\n  - name: data\n    image: REGISTRY/many/data:1\nservices:\n${service(0)}`,
  },
];

for (const c of cases) {
  test(`-q prints nothing on stderr for ${c.name}`, async () => {
    const dir = join(suite.work, c.name.replaceAll(' ', '-'));
    await mkdir(dir);
    const file = join(dir, 'system.yml');
    await writeFile(file, c.yaml.replaceAll('REGISTRY', suite.registry.host));
    const out = join(dir, 'out');
    const bin = join(repoRoot(), 'dist', 'cmd', 'lkvol.js');
    // A clean environment: NODE_NO_WARNINGS or NODE_OPTIONS from the caller must not hide a warning.
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir };
    const args = [
      bin,
      'build',
      '-q',
      ...c.flags,
      '--platform',
      'linux/amd64',
      '-o',
      out,
      '--cache',
      join(dir, 'cache'),
      file,
    ];
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { env });
    assert.equal(stderr, '');
    assert.equal(stdout, `${out}\n`);
  });
}
