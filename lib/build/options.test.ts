// Build options: defaults, and relative paths taken from the `cwd` option rather than the process's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveBuildOptions } from './options.js';

test('every path option is taken from cwd; files and OUT stay as given, for messages', () => {
  const o = resolveBuildOptions({
    cwd: '/work/proj',
    files: ['system.yml'],
    out: 'out',
    cacheDir: '../cache',
    home: 'me',
    caCertFiles: ['ca.pem'],
    certsDirs: ['certs.d', '/etc/docker/certs.d'],
    dockerConfigPath: 'docker/config.json',
    authFiles: ['auth.json'],
    platform: 'linux/amd64',
  });
  assert.deepEqual(
    {
      cwd: o.cwd,
      files: o.files,
      out: o.out,
      cacheDir: o.cacheDir,
      home: o.home,
      caCertFiles: o.caCertFiles,
      certsDirs: o.certsDirs,
      dockerConfigPath: o.dockerConfigPath,
      authFiles: o.authFiles,
    },
    {
      cwd: '/work/proj',
      files: ['system.yml'],
      out: 'out',
      cacheDir: '/work/cache',
      home: '/work/proj/me',
      caCertFiles: ['/work/proj/ca.pem'],
      certsDirs: ['/work/proj/certs.d', '/etc/docker/certs.d'],
      dockerConfigPath: '/work/proj/docker/config.json',
      authFiles: ['/work/proj/auth.json'],
    },
  );
});

test('without cwd, paths are taken from the process working directory', () => {
  const o = resolveBuildOptions({ files: ['s.yml'], out: 'out', cacheDir: 'cache', platform: 'linux/amd64' });
  assert.deepEqual([o.cwd, o.cacheDir, o.dockerConfigPath], [process.cwd(), `${process.cwd()}/cache`, undefined]);
});
