// A build whose output file system fills up reports the host's fault, keeps the previous output, leaves no staging.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLkvolError } from '../errors.js';
import { pushTarImage } from '../internal/testing/images.js';
import { smallTmpfs } from '../internal/testing/tmpfs.js';
import { build } from './index.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const suite = useRegistry({ name: 'faults' });

suite.before(async () => {
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'faults/small',
    tag: '1',
    layers: [[{ name: 'small', content: 'small' }]],
  });
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'faults/big',
    tag: '1',
    layers: [
      [
        { name: 'a', content: 'a' },
        { name: 'big', content: Buffer.alloc(4 * 1024 * 1024, 1) },
      ],
    ],
  });
});

test('ENOSPC while extracting is LKVOL_IO naming layer and entry; the previous output stays', async (t) => {
  assert.equal(process.getuid?.(), 0, 'mounting a tmpfs needs root');
  const fs = await smallTmpfs(t, 2 * 1024 * 1024);
  const work = await suite.tempDir(t);
  const system = join(work, 'system.yml');
  const out = join(fs, 'out');
  const options = {
    files: [system],
    out,
    cacheDir: join(work, 'cache'),
    platform: 'linux/amd64',
    applyOwnership: true,
  };
  await writeFile(system, `volumes:\n  - name: data\n    image: ${suite.registry.host}/faults/small:1\n`);
  await build(options);
  const record = await readFile(join(out, 'lkvol.json'), 'utf8');

  await writeFile(system, `volumes:\n  - name: data\n    image: ${suite.registry.host}/faults/big:1\n`);
  await assert.rejects(build(options), (err) => {
    assert.ok(isLkvolError(err, 'LKVOL_IO'), String(err));
    assert.match(err.message, /layer sha256:[0-9a-f]{64}: entry "big": ENOSPC: no space left on device/);
    assert.match(err.hint ?? '', /free space/);
    return true;
  });
  assert.equal(await readFile(join(out, 'lkvol.json'), 'utf8'), record, 'the previous output is intact');
  assert.deepEqual(await readdir(fs), ['out'], 'no staging directory is left');
});
