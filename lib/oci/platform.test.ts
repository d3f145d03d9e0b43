// Table tests for platform parsing, normalisation and ranking.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatPlatform,
  hostPlatform,
  matchesPlatform,
  normalizePlatform,
  parsePlatform,
  rankPlatform,
} from './platform.js';

const parseCases = [
  { name: 'plain os/arch is kept', input: 'linux/amd64', want: 'linux/amd64' },
  { name: 'aarch64 becomes arm64', input: 'linux/aarch64', want: 'linux/arm64' },
  { name: 'arm64 v8 is the default variant', input: 'linux/arm64/v8', want: 'linux/arm64' },
  { name: 'arm64 8 without v is the default variant', input: 'linux/arm64/8', want: 'linux/arm64' },
  { name: 'arm64 v9 keeps its variant', input: 'linux/arm64/v9', want: 'linux/arm64/v9' },
  { name: 'x86_64 becomes amd64', input: 'linux/x86_64', want: 'linux/amd64' },
  { name: 'amd64 v1 is the default variant', input: 'linux/amd64/v1', want: 'linux/amd64' },
  { name: 'amd64 v3 keeps its variant', input: 'linux/amd64/v3', want: 'linux/amd64/v3' },
  { name: 'armhf becomes arm/v7', input: 'linux/armhf', want: 'linux/arm/v7' },
  { name: 'armel becomes arm/v6', input: 'linux/armel', want: 'linux/arm/v6' },
  { name: 'bare arm means arm/v7', input: 'linux/arm', want: 'linux/arm/v7' },
  { name: 'arm 6 gets a v prefix', input: 'linux/arm/6', want: 'linux/arm/v6' },
  { name: 'upper case is lowered', input: 'Linux/AMD64', want: 'linux/amd64' },
  { name: 'i386 becomes 386', input: 'linux/i386', want: 'linux/386' },
  { name: 'other architectures pass through', input: 'linux/s390x', want: 'linux/s390x' },
  { name: 'a bare architecture means linux (LinuxKit --arch)', input: 'arm64', want: 'linux/arm64' },
  { name: 'a bare alias is normalised too', input: 'aarch64', want: 'linux/arm64' },
  { name: 'bare x86_64', input: 'x86_64', want: 'linux/amd64' },
];
for (const c of parseCases) {
  test(`parsePlatform: ${c.name}`, () => {
    assert.equal(formatPlatform(parsePlatform(c.input)), c.want);
  });
}

const invalidCases = [
  { name: 'one part that is no architecture is refused', input: 'linux' },
  { name: 'an unknown bare word is refused', input: 'sparc9' },
  { name: 'four parts are refused', input: 'linux/arm/v7/x' },
  { name: 'empty architecture is refused', input: 'linux/' },
  { name: 'empty string is refused', input: '' },
  { name: 'odd characters in os are refused', input: 'lin ux/amd64' },
  { name: 'odd characters in variant are refused', input: 'linux/arm/v7!' },
];
for (const c of invalidCases) {
  test(`parsePlatform: ${c.name}`, () => {
    assert.throws(
      () => parsePlatform(c.input),
      (err: unknown) => {
        assert.equal((err as { code?: string }).code, 'LKVOL_USAGE');
        assert.match((err as Error).message, /^invalid platform ".*": /);
        return true;
      },
    );
  });
}

test('normalizePlatform: index entries use the same aliases as flags', () => {
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), {
    os: 'linux',
    architecture: 'arm64',
  });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm' }), {
    os: 'linux',
    architecture: 'arm',
    variant: 'v7',
  });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'amd64', variant: '' }), {
    os: 'linux',
    architecture: 'amd64',
  });
});

const rankCases = [
  { name: 'exact match ranks 0', want: 'linux/arm/v7', have: 'linux/arm/v7', rank: 0 },
  { name: 'arm/v7 runs arm/v6', want: 'linux/arm/v7', have: 'linux/arm/v6', rank: 10 },
  { name: 'arm/v7 runs arm/v5, worse than v6', want: 'linux/arm/v7', have: 'linux/arm/v5', rank: 20 },
  { name: 'arm/v6 does not run arm/v7', want: 'linux/arm/v6', have: 'linux/arm/v7', rank: undefined },
  { name: 'amd64/v3 runs plain amd64', want: 'linux/amd64/v3', have: 'linux/amd64', rank: 20 },
  { name: 'plain amd64 does not run amd64/v2', want: 'linux/amd64', have: 'linux/amd64/v2', rank: undefined },
  { name: 'arm64/v9 runs plain arm64', want: 'linux/arm64/v9', have: 'linux/arm64', rank: 10 },
  // NB: no cross-architecture fallback; a volume built for arm64 must not get arm/v7 content silently.
  { name: 'arm64 does not take arm/v7', want: 'linux/arm64', have: 'linux/arm/v7', rank: undefined },
  { name: 'other os never matches', want: 'linux/amd64', have: 'windows/amd64', rank: undefined },
  {
    name: 'unordered variants match only exactly',
    want: 'linux/riscv64/rva22',
    have: 'linux/riscv64',
    rank: undefined,
  },
];
for (const c of rankCases) {
  test(`rankPlatform: ${c.name}`, () => {
    assert.equal(rankPlatform(parsePlatform(c.want), parsePlatform(c.have)), c.rank);
  });
}

test('hostPlatform: Node architecture names become OCI ones, unknown ones pass through', () => {
  assert.equal(hostPlatform('x64'), 'linux/amd64');
  assert.equal(hostPlatform('arm64'), 'linux/arm64');
  assert.equal(hostPlatform('arm'), 'linux/arm/v7');
  assert.equal(hostPlatform('ia32'), 'linux/386');
  assert.equal(hostPlatform('ppc64'), 'linux/ppc64le');
  assert.equal(hostPlatform('mips'), 'linux/mips');
});

test('matchesPlatform: a platform without a variant matches every variant of its os/arch; with one, only itself', () => {
  const p = (os: string, architecture: string, variant?: string) => ({ os, architecture, variant });
  assert.equal(matchesPlatform(p('linux', 'arm'), p('linux', 'arm', 'v6')), true);
  assert.equal(matchesPlatform(p('linux', 'arm'), p('linux', 'arm', 'v7')), true);
  assert.equal(matchesPlatform(p('linux', 'arm', 'v7'), p('linux', 'arm', 'v7')), true);
  assert.equal(matchesPlatform(p('linux', 'arm', 'v7'), p('linux', 'arm', 'v6')), false);
  assert.equal(matchesPlatform(p('linux', 'arm'), p('linux', 'arm64')), false);
  assert.equal(matchesPlatform(p('linux', 'amd64'), p('windows', 'amd64')), false);
});
