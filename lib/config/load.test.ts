// Tests of loadConfig: reading files and the errors for files that cannot be read.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLkvolError } from '../errors.js';
import { loadConfig } from './load.js';
import { tempDir } from '../internal/testing/temp.js';

test('reads and merges files in order, naming them as given', async (t) => {
  const dir = await tempDir(t, 'config');
  await writeFile(join(dir, 'a.yml'), 'volumes: [{name: data}]\n');
  await writeFile(join(dir, 'b.yml'), 'services: [{name: web, image: nginx, binds: ["data:/d"]}]\n');
  const config = await loadConfig([join(dir, 'a.yml'), join(dir, 'b.yml')]);
  assert.deepEqual(config.files, [join(dir, 'a.yml'), join(dir, 'b.yml')]);
  assert.equal(config.services[0]?.pos.file, join(dir, 'b.yml'));
});

test('config errors name the file as given', async (t) => {
  const dir = await tempDir(t, 'config');
  await writeFile(join(dir, 'bad.yml'), 'volumes: [{name: Data}]\n');
  await assert.rejects(loadConfig([join(dir, 'bad.yml')]), (err) => {
    assert.ok(isLkvolError(err, 'LKVOL_CONFIG_INVALID'));
    assert.equal(
      err.message,
      `${join(dir, 'bad.yml')}:1:18: volumes[0].name: invalid volume name "Data": use only a-z, 0-9, "_" and "-"`,
    );
    return true;
  });
});

const usageCases = [
  {
    name: 'a missing file is a usage error naming the path',
    path: (d: string) => join(d, 'missing.yml'),
    want: /system file ".*missing\.yml" does not exist/,
  },
  {
    name: 'a directory is a usage error naming the path',
    path: (d: string) => d,
    want: /system file ".*" is a directory/,
  },
  {
    name: 'a path through a file is a usage error',
    path: (d: string) => join(d, 'a.yml', 'x.yml'),
    want: /system file ".*a\.yml\/x\.yml" does not exist/,
  },
];

for (const c of usageCases) {
  test(c.name, async (t) => {
    const dir = await tempDir(t, 'config');
    await writeFile(join(dir, 'a.yml'), '');
    await assert.rejects(loadConfig([c.path(dir)]), (err) => {
      assert.ok(isLkvolError(err, 'LKVOL_USAGE'));
      assert.match(err.message, c.want);
      return true;
    });
  });
}

test('no files is a usage error', async () => {
  await assert.rejects(loadConfig([]), (err) => isLkvolError(err, 'LKVOL_USAGE'));
});

test('an aborted signal cancels the load', async (t) => {
  const dir = await tempDir(t, 'config');
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'a.yml'), '');
  await assert.rejects(loadConfig([join(dir, 'sub', 'a.yml')], { signal: AbortSignal.abort() }), (err) =>
    isLkvolError(err, 'LKVOL_CANCELLED'),
  );
});

// lkvol targets Linux; reading /proc/self/mem gives a real read error whoever runs the test (a mode-000 file would not
// stop root).
test('an error while reading is an I/O error naming the path', async () => {
  // NB: reading /proc/self/mem from offset 0 fails with EIO (the page is not mapped): a real read error, even as root.
  await assert.rejects(loadConfig(['/proc/self/mem']), (err) => {
    assert.ok(isLkvolError(err, 'LKVOL_IO'));
    assert.match(err.message, /^read system file "\/proc\/self\/mem": EIO/);
    return true;
  });
});
