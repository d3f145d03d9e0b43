// What `npm pack` ships (package.json `files`): the CLI, its bundle and the library, never a test or a test helper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tempDir } from './testing/temp.js';
import { repoRoot } from './testing/testdata.js';

/** The paths `npm pack --dry-run` would put in the tarball (offline: it reads the checkout and dist/ only). */
async function packedFiles(t: { after(fn: () => Promise<void>): void }): Promise<string[]> {
  const cache = await tempDir(t, 'npm-cache');
  const args = ['pack', '--dry-run', '--json', '--ignore-scripts', '--offline', '--cache', cache];
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false' };
  const { stdout } = await promisify(execFile)('npm', args, { cwd: repoRoot(), env, maxBuffer: 16 << 20 });
  const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
  assert.ok(pack, `npm pack --json printed no package: ${stdout}`);
  return pack.files.map((f) => f.path).sort();
}

test('npm pack ships the bin, the bundle, the CLI and the library, and no test or test helper', async (t) => {
  const files = await packedFiles(t);
  const wanted = [
    'package.json',
    'cmd/lkvol.sh',
    'dist/bundle/lkvol.cjs',
    'dist/bundle/start.cjs',
    'dist/bundle/zstd-worker.js',
    'dist/bundle/fingerprint-worker.js',
    'dist/bundle/package.json',
    'dist/cmd/lkvol.js',
    'dist/cmd/main.js',
    'dist/lib/index.js',
    'dist/lib/index.d.ts',
  ];
  assert.deepEqual(
    wanted.filter((f) => !files.includes(f)),
    [],
    'missing from the package',
  );
  const testOnly = files.filter((f) => /\.test\.|(^|\/)internal\/testing\/|run-in-process/.test(f));
  assert.deepEqual(testOnly, [], 'tests and test helpers in the package');
});
