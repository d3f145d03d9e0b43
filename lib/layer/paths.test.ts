// Tests of name cleaning and chroot-style resolution inside the root.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLkvolError } from '../errors.js';
import { cleanName, maxSymlinkHops, resolveInRoot } from './paths.js';

const ref = { layer: 'sha256:abc', entry: 'e' };

const cleanCases: Array<{ name: string; input: string; want: string[] | 'refused' }> = [
  { name: 'plain', input: 'etc/passwd', want: ['etc', 'passwd'] },
  { name: 'leading ./ and trailing /', input: './usr/bin/', want: ['usr', 'bin'] },
  { name: 'absolute names are root-relative', input: '/etc//x', want: ['etc', 'x'] },
  { name: 'dot-dot inside the name', input: 'a/b/../c', want: ['a', 'c'] },
  { name: 'root forms', input: './', want: [] },
  { name: 'slash alone is the root', input: '/', want: [] },
  { name: 'climbing above the root', input: 'a/../../x', want: 'refused' },
  { name: 'climbing from an absolute name', input: '/../x', want: 'refused' },
  { name: 'NUL byte', input: 'a\0b', want: 'refused' },
  // NB: on Linux a backslash is an ordinary byte, so "..\\x" is one harmless component.
  { name: 'backslashes are literal', input: '..\\x', want: ['..\\x'] },
  { name: 'drive prefixes are literal', input: 'C:..\\x', want: ['C:..\\x'] },
];

for (const c of cleanCases) {
  test(`cleanName: ${c.name}`, () => {
    if (c.want === 'refused')
      assert.throws(
        () => cleanName(c.input, ref),
        (err) => isLkvolError(err, 'LKVOL_LAYER_UNSAFE_PATH'),
      );
    else assert.deepEqual(cleanName(c.input, ref), c.want);
  });
}

const resolveCases: Array<{ name: string; input: string; followFinal?: boolean; want: string | 'loop' }> = [
  { name: 'real directories', input: 'dir/file', want: 'dir/file' },
  { name: 'missing components are literal', input: 'nope/deeper/x', want: 'nope/deeper/x' },
  { name: 'relative symlink', input: 'rel/x', want: 'dir/x' },
  { name: 'absolute symlink restarts at the root', input: 'abs/x', want: 'dir/x' },
  { name: 'dot-dot past the top stays at the root', input: 'up/x', want: 'x' },
  { name: 'symlink to an absolute host path is re-rooted', input: 'host/x', want: 'etc/x' },
  { name: 'the last component is not followed by default', input: 'rel', want: 'rel' },
  { name: 'the last component is followed when asked', input: 'rel', followFinal: true, want: 'dir' },
  { name: 'dot-dot after a missing component climbs back to a symlink', input: 'chain/x', want: 'dir/x' },
  { name: 'a loop is refused', input: 'loop1/x', want: 'loop' },
];

test('resolveInRoot', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'lkvol-paths-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  await mkdir(join(base, 'dir'));
  await writeFile(join(base, 'dir', 'file'), '');
  await symlink('dir', join(base, 'rel'));
  await symlink('/dir', join(base, 'abs'));
  await symlink('../../../..', join(base, 'up'));
  await symlink('/etc', join(base, 'host'));
  await symlink('missing/../rel', join(base, 'chain'));
  await symlink('loop2', join(base, 'loop1'));
  await symlink('loop1', join(base, 'loop2'));
  for (const c of resolveCases) {
    await t.test(c.name, () => {
      const run = () => resolveInRoot(base, cleanName(c.input, ref), { followFinal: c.followFinal ?? false, ref });
      if (c.want === 'loop')
        assert.throws(
          run,
          (err) => isLkvolError(err, 'LKVOL_LAYER_UNSAFE_PATH') && err.message.includes(`${maxSymlinkHops}`),
        );
      else assert.equal(run().join('/'), c.want);
    });
  }
});
