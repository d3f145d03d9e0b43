// The README's boot-image CI, run as written: examples/ci/boot-image.mk's targets with the built CLI against a
// registry holding the example images — lock, --locked tar output, a stale lock refused, an offline rebuild.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pushExampleImages } from '../lib/internal/testing/example-images.js';
import { repoRoot } from '../lib/internal/testing/testdata.js';
import { useRegistry } from '../lib/internal/testing/use-registry.js';

const cli = fileURLToPath(new URL('./lkvol.js', import.meta.url));
const makefile = join(repoRoot(), 'examples', 'ci', 'boot-image.mk');
const suite = useRegistry({ name: 'ci' });

suite.before(async () => {
  await pushExampleImages(suite.registry.host, join(repoRoot(), 'examples', 'images'));
  const web = await readFile(join(repoRoot(), 'examples', 'web.yml'), 'utf8');
  await writeFile(join(suite.work, 'system.yml'), web.replaceAll('127.0.0.1:5391', suite.registry.host));
  // Its provisioners are relative to it: they come along.
  for (const f of (await readdir(join(repoRoot(), 'examples'))).filter((n) => n.endsWith('.sh')))
    await copyFile(join(repoRoot(), 'examples', f), join(suite.work, f));
});

/** `make -f boot-image.mk TARGET` in the work directory, with the built CLI as LKVOL and a cache of the test's own. */
function make(target: string, extra: string[] = []): { status: number | null; stderr: string } {
  const vars = [
    `LKVOL=${process.execPath} ${cli}`,
    'SYSTEM=system.yml',
    `LKVOL_FLAGS=--cache ${join(suite.work, 'cache')} --platform linux/amd64 -q`,
    'SOURCE_DATE_EPOCH=1700000000',
    ...extra,
  ];
  const r = spawnSync('make', ['--no-print-directory', '-f', makefile, target, ...vars], {
    cwd: suite.work,
    encoding: 'utf8',
  });
  return { status: r.status, stderr: r.stderr };
}

const sha = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

test('lock, then a --locked tar; a stale lock is refused; offline, with the registry gone, the same bytes', async () => {
  const lockRun = make('lock', ['LKVOL_FLAGS=--cache ' + join(suite.work, 'cache') + ' --platform linux/amd64']);
  assert.equal(lockRun.status, 0, lockRun.stderr);
  const lock = await readFile(join(suite.work, 'lkvol.lock'), 'utf8');
  assert.match(lock, /^lockVersion: 1$/m);
  assert.equal((lock.match(/^ {4}digest: "sha256:[0-9a-f]{64}"$/gm) ?? []).length, 4, 'the four example images');

  const built = make('image.tar');
  assert.equal(built.status, 0, built.stderr);
  const listing = spawnSync('tar', ['-tf', join(suite.work, 'image.tar')], { encoding: 'utf8' }).stdout.split('\n');
  assert.ok(
    listing.includes('lkvol.json') && listing.includes('containers/services/web/lower/'),
    'the tree, bundle roots included',
  );
  const first = await sha(join(suite.work, 'image.tar'));

  // The system file names an image the lock does not pin: CI fails with exit 2 naming it.
  const system = await readFile(join(suite.work, 'system.yml'), 'utf8');
  await writeFile(
    join(suite.work, 'system.yml'),
    system.replace(
      '  - name: logs\n',
      `  - name: logs\n  - name: extra\n    image: ${suite.registry.host}/example/extra:1\n`,
    ),
  );
  const stale = make('stale.tar', ['IMAGE=stale.tar']);
  assert.notEqual(stale.status, 0);
  assert.match(stale.stderr, /example\/extra:1 is not in .*lkvol\.lock.*\n?.*\(LKVOL_LOCK\)/s);
  await writeFile(join(suite.work, 'system.yml'), system);

  // No registry at all: the pinned blobs are in the cache, and the tar comes out byte for byte the same.
  await suite.registry.stop();
  const offline = make('offline', ['IMAGE=offline.tar']);
  assert.equal(offline.status, 0, offline.stderr);
  assert.equal(await sha(join(suite.work, 'offline.tar')), first);
  assert.ok(listing.includes('containers/volumes/banner/lower/banner.txt'), "the provisioner's volume is in both");
});
