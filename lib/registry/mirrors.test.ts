// Mirror specs and the order in which the router tries mirrors and the registry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LkvolError } from '../errors.js';
import { createMirrorRouter, parseMirror, type MirrorWarning } from './mirrors.js';

const specCases = [
  {
    name: 'Docker Hub with a port',
    spec: 'docker.io=http://127.0.0.1:5001',
    want: { registry: 'docker.io', url: 'http://127.0.0.1:5001' },
  },
  {
    name: 'a Docker Hub alias is normalised',
    spec: 'index.docker.io=https://mirror.example.com/',
    want: { registry: 'docker.io', url: 'https://mirror.example.com' },
  },
  {
    name: 'another registry, /v2/ tolerated',
    spec: 'quay.io=https://quay-mirror.example.com/v2/',
    want: { registry: 'quay.io', url: 'https://quay-mirror.example.com' },
  },
  {
    name: 'a registry with a port',
    spec: 'Registry.local:5000=https://m.example',
    want: { registry: 'registry.local:5000', url: 'https://m.example' },
  },
];
for (const c of specCases) test(`parseMirror: ${c.name}`, () => assert.deepEqual(parseMirror(c.spec), c.want));

const badSpecs = [
  { name: 'no =', spec: 'http://127.0.0.1:5001', want: /want REGISTRY=URL/ },
  { name: 'an empty registry', spec: '=http://m', want: /want REGISTRY=URL/ },
  { name: 'a registry with a path', spec: 'docker.io/library=http://m', want: /must be a host or host:port/ },
  { name: 'a URL that does not parse', spec: 'docker.io=mirror:5001:x', want: /does not parse|must be http/ },
  { name: 'another scheme', spec: 'docker.io=ftp://m', want: /must be http:\/\/ or https:\/\/, got ftp:/ },
  { name: 'credentials in the URL', spec: 'docker.io=https://u:p@m', want: /may not hold credentials/ },
  { name: 'a path prefix', spec: 'docker.io=https://m/prefix', want: /may not have a path/ },
];
for (const c of badSpecs) {
  test(`parseMirror: ${c.name} is a usage error`, () => {
    assert.throws(
      () => parseMirror(c.spec),
      (e: unknown) =>
        e instanceof LkvolError &&
        e.code === 'LKVOL_USAGE' &&
        c.want.test(e.message) &&
        e.message.startsWith(`--mirror ${JSON.stringify(c.spec)}`),
    );
  });
}

const unavailable = () => new LkvolError('LKVOL_REGISTRY_UNAVAILABLE', 'down');
const notFound = () => new LkvolError('LKVOL_REGISTRY_NOT_FOUND', 'absent');
type Behaviour = Record<string, () => LkvolError | undefined>;

/** Runs one routed call; `at` says how each endpoint ('origin' or a mirror URL) behaves. */
async function run(purpose: 'content' | 'tag', mirrors: string[], at: Behaviour, calls = 1) {
  const tried: string[] = [];
  const warnings: MirrorWarning[] = [];
  const route = createMirrorRouter(mirrors, (w) => warnings.push(w));
  const results: unknown[] = [];
  for (let i = 0; i < calls; i++) {
    results.push(
      await route(purpose, 'r/x:1', 'reg', async (m) => {
        const name = m ?? 'origin';
        tried.push(name);
        const err = at[name]?.();
        if (err !== undefined) throw err;
        return name;
      }).catch((e: Error) => e.message),
    );
  }
  return { tried, warnings: warnings.map((w) => w.code), results };
}

const routeCases = [
  {
    name: 'content comes from the first mirror',
    purpose: 'content',
    mirrors: ['m1', 'm2'],
    at: {},
    want: { tried: ['m1'], warnings: [], results: ['m1'] },
  },
  {
    name: 'content falls back past a failing mirror to the next',
    purpose: 'content',
    mirrors: ['m1', 'm2'],
    at: { m1: notFound },
    want: { tried: ['m1', 'm2'], warnings: ['LKVOL_WARN_MIRROR'], results: ['m2'] },
  },
  {
    name: 'content falls back to the origin when every mirror fails',
    purpose: 'content',
    mirrors: ['m1'],
    at: { m1: notFound },
    want: { tried: ['m1', 'origin'], warnings: ['LKVOL_WARN_MIRROR'], results: ['origin'] },
  },
  // NB: an unreachable mirror is skipped for the rest of the session; the warning is given once.
  {
    name: 'an unreachable mirror is not tried again',
    purpose: 'content',
    mirrors: ['m1'],
    at: { m1: unavailable },
    calls: 2,
    want: { tried: ['m1', 'origin', 'origin'], warnings: ['LKVOL_WARN_MIRROR'], results: ['origin', 'origin'] },
  },
  {
    name: 'tags are resolved at the origin',
    purpose: 'tag',
    mirrors: ['m1'],
    at: {},
    want: { tried: ['origin'], warnings: [], results: ['origin'] },
  },
  {
    name: 'a tag the origin does not have is not looked up at a mirror',
    purpose: 'tag',
    mirrors: ['m1'],
    at: { origin: notFound },
    want: { tried: ['origin'], warnings: [], results: ['absent'] },
  },
  {
    name: 'an unreachable origin resolves the tag at a mirror, with a warning',
    purpose: 'tag',
    mirrors: ['m1'],
    at: { origin: unavailable },
    want: { tried: ['origin', 'm1'], warnings: ['LKVOL_WARN_MIRROR_RESOLVE'], results: ['m1'] },
  },
  {
    name: 'origin and mirrors down: the origin error is reported',
    purpose: 'tag',
    mirrors: ['m1'],
    at: { origin: unavailable, m1: notFound },
    want: { tried: ['origin', 'm1'], warnings: [], results: ['down'] },
  },
] as const;
for (const c of routeCases) {
  test(`mirror router: ${c.name}`, async () => {
    assert.deepEqual(await run(c.purpose, [...c.mirrors], c.at as Behaviour, 'calls' in c ? c.calls : 1), c.want);
  });
}

test('mirror router: cancellation is never retried elsewhere', async () => {
  const route = createMirrorRouter(['m1'], () => assert.fail('no warning expected'));
  const tried: string[] = [];
  await assert.rejects(
    route('content', 'r/x:1', 'reg', async (m) => {
      tried.push(m ?? 'origin');
      throw new LkvolError('LKVOL_CANCELLED', 'cancelled');
    }),
    { code: 'LKVOL_CANCELLED' },
  );
  assert.deepEqual(tried, ['m1']);
});
