// lkvol.lock: `lock` pins every reference of the system files; `build` uses the pins; `--locked` insists on them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from './index.js';
import { lock } from './lock.js';
import { isLkvolError } from '../errors.js';
import type { BuildEvent } from '../events.js';
import { pushMultiPlatform, pushTarImage } from '../internal/testing/images.js';
import type { BuildRecord } from './record.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const suite = useRegistry({ name: 'lock' });
let index: string;

suite.before(async () => {
  index = (
    await pushMultiPlatform({
      registry: suite.registry.host,
      repository: 'lock/multi',
      tag: '1',
      architectures: ['amd64', 'arm64'],
    })
  ).digest;
});

/** Pushes `repository:tag` holding one file `version` with `text`; returns the manifest digest. */
async function pushVersion(repository: string, tag: string, text: string): Promise<string> {
  return (
    await pushTarImage({
      registry: suite.registry.host,
      repository,
      tag,
      layers: [[{ name: 'version', content: text }]],
    })
  ).manifestDigest;
}

const setup = (name: string, yaml: string) => suite.buildOptions(name, yaml, { applyOwnership: false });

const lockOf = (o: { dir: string }) => readFile(join(o.dir, 'lkvol.lock'), 'utf8');

describe('lkvol lock', () => {
  test('pins every volume and container reference, sorted, with the manifest picked from an index, and a header', async () => {
    const data = await pushVersion('lock/data', '1', 'v1\n');
    const o = await setup(
      'pins',
      'volumes:\n  - name: v\n    image: REGISTRY/lock/data:1\nservices:\n  - name: s\n    image: REGISTRY/lock/multi:1\n',
    );
    const r = await lock(o);
    assert.equal(r.path, join(o.dir, 'lkvol.lock'));
    assert.deepEqual(r.resolved.sort(), [`${suite.registry.host}/lock/data:1`, `${suite.registry.host}/lock/multi:1`]);
    const text = await lockOf(o);
    assert.match(
      text,
      /^# lkvol\.lock: the image references of system\.yml pinned to digests\.\n/,
      "named from the lock's directory, not where lock ran",
    );
    assert.match(text, /lkvol lock --update/);
    const body = text.split('\n').filter((l) => !l.startsWith('#'));
    assert.deepEqual(body.slice(0, 2), ['lockVersion: 1', 'images:']);
    assert.ok(
      body.indexOf(`  "${suite.registry.host}/lock/data:1":`) <
        body.indexOf(`  "${suite.registry.host}/lock/multi:1":`),
      'sorted',
    );
    assert.ok(text.includes(`    digest: "${data}"`));
    assert.ok(text.includes(`    digest: "${index}"\n    platforms:\n      "linux/amd64": "sha256:`));
    const again = await lock(o);
    assert.equal(again.changed, false);
    assert.deepEqual(again.resolved, [], 'existing pins are kept');
    assert.equal(await lockOf(o), text, 'the same bytes');
  });

  test('build uses the pins: a tag that moved after locking still gives the locked image, and says so', async () => {
    const first = await pushVersion('lock/moving', '1', 'first\n');
    const o = await setup('moving', 'volumes:\n  - name: v\n    image: REGISTRY/lock/moving:1\n');
    await lock(o);
    await pushVersion('lock/moving', '1', 'second\n');
    const events: BuildEvent[] = [];
    const result = await build({ ...o, onEvent: (e) => events.push(e) });
    assert.equal(await readFile(join(o.out, 'containers/volumes/v/lower/version'), 'utf8'), 'first\n');
    assert.equal((result.record as BuildRecord).volumes[0]?.digest, first);
    assert.deepEqual(
      events.filter((e) => e.kind === 'pinned'),
      [
        {
          kind: 'pinned',
          image: `${suite.registry.host}/lock/moving:1`,
          digest: first,
          lock: join(o.dir, 'lkvol.lock'),
        },
      ],
    );
    // --update moves the pin; the next build follows it.
    const updated = await lock({ ...o, update: 'all' });
    assert.deepEqual(updated.resolved, [`${suite.registry.host}/lock/moving:1`]);
    await build(o);
    assert.equal(await readFile(join(o.out, 'containers/volumes/v/lower/version'), 'utf8'), 'second\n');
  });

  test('--update REF re-resolves that reference only; an unknown one is an error', async () => {
    await pushVersion('lock/a', '1', 'a1\n');
    await pushVersion('lock/b', '1', 'b1\n');
    const o = await setup(
      'update-one',
      'volumes:\n  - name: a\n    image: REGISTRY/lock/a:1\n  - name: b\n    image: REGISTRY/lock/b:1\n',
    );
    await lock(o);
    const a2 = await pushVersion('lock/a', '1', 'a2\n');
    const b2 = await pushVersion('lock/b', '1', 'b2\n');
    const r = await lock({ ...o, update: [`${suite.registry.host}/lock/b:1`] });
    assert.deepEqual(r.resolved, [`${suite.registry.host}/lock/b:1`]);
    const text = await lockOf(o);
    assert.ok(text.includes(b2) && !text.includes(a2));
    await assert.rejects(
      lock({ ...o, update: [`${suite.registry.host}/lock/c:1`] }),
      (e: unknown) => isLkvolError(e, 'LKVOL_LOCK') && e.message.includes('lock/c:1'),
    );
  });

  test('a pin no file uses is dropped; a file named lkvol.lock that lkvol did not write is never overwritten', async () => {
    await pushVersion('lock/keep', '1', 'k\n');
    await pushVersion('lock/gone', '1', 'g\n');
    const o = await setup(
      'drop',
      'volumes:\n  - name: k\n    image: REGISTRY/lock/keep:1\n  - name: g\n    image: REGISTRY/lock/gone:1\n',
    );
    await lock(o);
    await writeFile(o.file, `volumes:\n  - name: k\n    image: ${suite.registry.host}/lock/keep:1\n`);
    const r = await lock(o);
    assert.deepEqual(r.dropped, [`${suite.registry.host}/lock/gone:1`]);
    assert.ok(!(await lockOf(o)).includes('lock/gone'));
    await writeFile(join(o.dir, 'lkvol.lock'), 'my notes\n');
    await assert.rejects(
      lock(o),
      (e: unknown) => isLkvolError(e, 'LKVOL_LOCK') && e.message.includes('not an lkvol lock file'),
    );
    await assert.rejects(build(o), (e: unknown) => isLkvolError(e, 'LKVOL_LOCK'));
    assert.equal(await lockOf(o), 'my notes\n');
  });
});

describe('build --locked', () => {
  test('fails before any network access without a lock, naming where it should be', async () => {
    const o = await setup('locked-missing', 'volumes:\n  - name: v\n    image: 127.0.0.1:9/never/contacted:1\n');
    await assert.rejects(
      build({ ...o, locked: true }),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LOCK') &&
        e.message.includes(join(o.dir, 'lkvol.lock')) &&
        /lkvol lock/.test(e.hint ?? ''),
    );
  });

  test('fails when the files and the lock disagree, every difference listed with file:line:col', async () => {
    await pushVersion('lock/x', '1', 'x\n');
    await pushVersion('lock/y', '1', 'y\n');
    await pushVersion('lock/z', '1', 'z\n');
    const o = await setup(
      'locked-stale',
      'volumes:\n  - name: x\n    image: REGISTRY/lock/x:1\n  - name: y\n    image: REGISTRY/lock/y:1\n',
    );
    await lock(o);
    await build({ ...o, locked: true });
    const host = suite.registry.host;
    await writeFile(
      o.file,
      `volumes:\n  - name: x\n    image: ${host}/lock/x:1\nservices:\n  - name: s\n    image: ${host}/lock/z:1\n`,
    );
    await assert.rejects(build({ ...o, locked: true }), (e: unknown) => {
      assert.ok(isLkvolError(e, 'LKVOL_LOCK'));
      assert.match(
        e.message,
        new RegExp(`system\\.yml:6:12: services\\[0\\]\\.image: ${host.replaceAll('.', '\\.')}/lock/z:1 is not in `),
      );
      assert.match(e.message, /pins .*lock\/y:1, which no system file uses any more/);
      return true;
    });
    // Without --locked the lock is still used where it can be, and the rest is resolved with a warning.
    const events: BuildEvent[] = [];
    await build({ ...o, onEvent: (e) => events.push(e) });
    assert.deepEqual(
      events.flatMap((e) => (e.kind === 'warning' && e.code === 'LKVOL_WARN_NOT_LOCKED' ? [e.message] : [])).length,
      1,
    );
    assert.equal(events.filter((e) => e.kind === 'pinned').length, 1);
  });

  test('works offline from the cache once the pinned blobs are there, whatever the tag does meanwhile', async () => {
    const pinned = await pushVersion('lock/offline', '1', 'pinned\n');
    const o = await setup('locked-offline', 'volumes:\n  - name: v\n    image: REGISTRY/lock/offline:1\n');
    await lock(o);
    await build({ ...o, locked: true });
    await pushVersion('lock/offline', '1', 'moved\n');
    await rm(o.out, { recursive: true });
    const result = await build({ ...o, locked: true, offline: true });
    assert.equal(result.record.volumes[0]?.digest, pinned);
    assert.equal(await readFile(join(o.out, 'containers/volumes/v/lower/version'), 'utf8'), 'pinned\n');
  });
});
