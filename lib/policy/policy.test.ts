// The host-path bind policy: binds × policies, normalisation that cannot be fooled, the policy file's own errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../config/index.js';
import { isLkvolError } from '../errors.js';
import { checkConfigHostPaths, hostBinds, parsePolicy, policyViolation } from './index.js';

const policy = parsePolicy(
  'policy.yml',
  [
    'hostPaths:',
    '  allow:',
    '    - path: /var/lib/app',
    '    - path: /etc/ssl/certs',
    '      readOnly: true',
    '    - path: /var/run',
    '  deny:',
    '    - /var/run/docker.sock',
    '    - /var/lib/app/secrets/',
    '',
  ].join('\n'),
);

const cases: { bind: string; want: RegExp | undefined }[] = [
  { bind: '/var/lib/app:/data', want: undefined },
  { bind: '/var/lib/app/cache:/cache', want: undefined },
  { bind: '/var/lib/app/:/data', want: undefined },
  { bind: '//var//lib/./app:/data', want: undefined },
  { bind: '/var/lib/app2:/data', want: /host path \/var\/lib\/app2 is not under any path the policy allows/ },
  { bind: '/var/lib:/data', want: /is not under any path the policy allows/ },
  { bind: '/:/host', want: /host path \/ is not under any path/ },
  { bind: '/var/run/docker.sock:/var/run/docker.sock', want: /is denied by hostPaths\.deny\[0\] \(policy\.yml:8:7\)/ },
  { bind: '/var/run:/var/run', want: undefined },
  { bind: '/var/lib/app/secrets/key:/key', want: /is denied by hostPaths\.deny\[1\]/ },
  {
    bind: '/etc/ssl/certs:/etc/ssl/certs',
    want: /must be bound read-only \("ro"\), as hostPaths\.allow\[1\] \(policy\.yml:4:13\) says/,
  },
  { bind: '/etc/ssl/certs:/etc/ssl/certs:ro', want: undefined },
  { bind: '/etc/ssl/certs:/etc/ssl/certs:rshared,ro', want: undefined },
  { bind: '/etc/ssl/certs/ca.pem:/ca.pem:ro,rbind', want: undefined },
  { bind: '/var/lib/app/../../../etc:/etc', want: /contains "\.\.": write \/etc/ },
  { bind: '/var/lib/app/../app/x:/x', want: /contains "\.\."/ },
];
for (const c of cases) {
  test(`policy: ${c.bind} → ${c.want === undefined ? 'allowed' : c.want.source}`, () => {
    const [b] = hostBinds({ binds: [c.bind] });
    assert.ok(b !== undefined);
    const why = policyViolation(b, policy);
    if (c.want === undefined) assert.equal(why, undefined);
    else assert.match(why ?? 'allowed', c.want);
  });
}

test('volume binds are not host paths; binds.add and bind mounts are', () => {
  assert.deepEqual(
    hostBinds({
      binds: ['data:/data'],
      'binds.add': ['/var/lib/app:/a'],
      mounts: [
        { type: 'bind', source: '/etc/ssl/certs', destination: '/c', options: ['ro'] },
        { type: 'bind', source: 'vol', destination: '/v' },
        { type: 'tmpfs', destination: '/t' },
      ],
    }).map((b) => [b.path.join('.'), b.source]),
    [
      ['binds.add.0', '/var/lib/app'],
      ['mounts.0', '/etc/ssl/certs'],
    ],
  );
});

test('every violation of the files at once, each naming the container, the bind and its line', () => {
  const text = [
    'onboot:',
    '  - name: a',
    '    image: alpine',
    '    binds: [/var/run/docker.sock:/s, data:/d]',
    'services:',
    '  - name: b',
    '    image: alpine',
    '    binds.add: [/etc/ssl/certs:/c]',
    '    mounts:',
    '      - {type: bind, source: /root, destination: /r}',
    'volumes:',
    '  - name: data',
    '',
  ].join('\n');
  const config = parseConfig([{ file: 'system.yml', text }]);
  assert.deepEqual(
    checkConfigHostPaths(config, policy).map(
      (i) => `${i.file}:${i.line}:${i.column}: ${i.path}: ${i.message.replace(/: host path .*/, '')}`,
    ),
    [
      'system.yml:4:13: onboot[0].binds[0]: container "a": "/var/run/docker.sock:/s"',
      'system.yml:8:17: services[0].binds.add[0]: container "b": "/etc/ssl/certs:/c"',
      'system.yml:10:9: services[0].mounts[0]: container "b": "/root"',
    ],
  );
});

test('the policy file: relative paths, ".." and unknown keys are errors at their line', () => {
  assert.throws(
    () => parsePolicy('p.yml', 'hostPaths:\n  allow:\n    - path: var/lib\n    - path: /a/../b\n  deny: [/x]\n'),
    (e: unknown) =>
      isLkvolError(e, 'LKVOL_CONFIG_INVALID') &&
      /p\.yml:3:13: hostPaths\.allow\[0\]: "var\/lib" must be an absolute path/.test(e.message) &&
      /p\.yml:4:13: hostPaths\.allow\[1\]: "\/a\/\.\.\/b" must not contain "\.\."/.test(e.message),
  );
  assert.throws(
    () => parsePolicy('p.yml', 'hostpaths: {}\n'),
    (e: unknown) => isLkvolError(e, 'LKVOL_CONFIG_INVALID') && /^p\.yml:1:1/.test(e.message),
  );
  assert.throws(
    () => parsePolicy('p.yml', 'hostPaths: [\n'),
    (e: unknown) => isLkvolError(e, 'LKVOL_CONFIG_SYNTAX'),
  );
});
