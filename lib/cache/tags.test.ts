// Tag records: layout, round trip, damaged records as misses, atomic concurrent writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestOf } from '../digest/index.js';
import { createTagStore, missingTagError, tagTempName } from './tags.js';
import { createBlobCache } from './blob-cache.js';
import { writerTag } from './writers.js';
import { tempDir } from '../internal/testing/temp.js';

const ref = '127.0.0.1:5000/img/app:1';
const record = { ref, digest: digestOf('index'), mediaType: 'application/vnd.oci.image.index.v1+json' };

test('tags: a record is stored at v1/tags/<sha256 of ref>.json and read back', async (t) => {
  const dir = await tempDir(t, 'tags');
  const tags = createTagStore({ dir });
  await tags.put(record);
  const hex = createHash('sha256').update(ref).digest('hex');
  assert.equal(tags.pathOf(ref), join(dir, 'v1', 'tags', `${hex}.json`));
  assert.deepEqual(await tags.get(ref), record);
  assert.deepEqual(await readdir(join(dir, 'v1', 'tags')), [`${hex}.json`]);
});

test('tags: an unknown reference is a miss', async (t) => {
  const tags = createTagStore({ dir: await tempDir(t, 'tags') });
  assert.equal(await tags.get(ref), undefined);
});

const damaged = [
  { name: 'not JSON', text: '{"ref":' },
  { name: 'a record for another reference', text: JSON.stringify({ ...record, ref: 'other/ref:1' }) },
  { name: 'a digest that does not parse', text: JSON.stringify({ ...record, digest: 'sha256:../../x' }) },
  { name: 'no media type', text: JSON.stringify({ ref, digest: record.digest }) },
];
for (const c of damaged) {
  test(`tags: ${c.name} is a miss, not an error`, async (t) => {
    const tags = createTagStore({ dir: await tempDir(t, 'tags') });
    await mkdir(join(tags.pathOf(ref), '..'), { recursive: true });
    await writeFile(tags.pathOf(ref), c.text);
    assert.equal(await tags.get(ref), undefined);
  });
}

test('tags: concurrent writers leave one whole record and no temp files', async (t) => {
  const dir = await tempDir(t, 'tags');
  const tags = createTagStore({ dir });
  const digests = Array.from({ length: 8 }, (_, i) => digestOf(`m${i}`));
  await Promise.all(digests.map((digest) => tags.put({ ...record, digest })));
  const got = await tags.get(ref);
  assert.ok(got !== undefined && digests.includes(got.digest));
  assert.equal((await readdir(join(dir, 'v1', 'tags'))).length, 1);
});

test('tags: a later put replaces the record (a tag that moved)', async (t) => {
  const tags = createTagStore({ dir: await tempDir(t, 'tags') });
  await tags.put(record);
  await tags.put({ ...record, digest: digestOf('moved') });
  assert.equal((await tags.get(ref))?.digest, digestOf('moved'));
});

test('tags: the offline miss names the tag and the cache', () => {
  const err = missingTagError(ref, '/c');
  assert.equal(err.code, 'LKVOL_REGISTRY_UNAVAILABLE');
  assert.equal(err.message, `pull ${ref}: tag is not in the cache /c (--offline)`);
  assert.match(err.hint ?? '', /without --offline/);
});

test('tags: a record temp left by a dead writer is removed when the cache opens again', async (t) => {
  const dir = await tempDir(t, 'tags');
  const tags = createTagStore({ dir });
  await tags.put(record);
  assert.deepEqual(await readdir(join(dir, 'v1', 'tmp')), [], 'put leaves no temp behind');
  // What a writer killed mid-put leaves: the same name form, with a pid that is not running.
  const orphan = tagTempName(ref, writerTag().replace(/-\d+$/, '-4000001'));
  await writeFile(join(dir, 'v1', 'tmp', orphan), '{');
  await createBlobCache({ dir });
  assert.deepEqual(await readdir(join(dir, 'v1', 'tmp')), []);
});
