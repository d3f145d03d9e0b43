// It runs: a --rootfs tree booted the way LinuxKit's init boots it (volumes overlaid, runtime.json mounts, then
// onboot, services, onshutdown) in a private mount namespace, its containers run by runc. Runs as root.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from './index.js';
import { pushTarImage } from '../internal/testing/images.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const init = fileURLToPath(new URL('../internal/testing/boot-init.js', import.meta.url));
/** The static busybox of Debian's busybox-static: a whole userland in one file, for the test images. */
const busybox = '/bin/busybox';
const suite = useRegistry({ name: 'boot' });
/** /containers is where the specs expect the tree; made for the test when missing, and removed after. */
let madeContainersDir = false;

/** What is missing to run this test, as something to install. */
function missing(): string[] {
  const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  return [
    ...(process.getuid?.() === 0 ? [] : ['root (runc and mounts need it)']),
    ...(has('runc') ? [] : ['runc (apt-get install runc)']),
    ...(has('unshare') ? [] : ['unshare (apt-get install util-linux)']),
    ...(existsSync(busybox) &&
    /not a dynamic/.test(
      spawnSync('ldd', [busybox], { encoding: 'utf8' }).stdout +
        spawnSync('ldd', [busybox], { encoding: 'utf8' }).stderr,
    )
      ? []
      : ['a static /bin/busybox (apt-get install busybox-static)']),
  ];
}

suite.before(async () => {
  assert.deepEqual(missing(), [], 'the boot test needs these; `make test` installs them through .ci/debian-deps.sh');
  const bin = await readFile(busybox);
  const applets = ['sh', 'cat', 'echo', 'httpd'];
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'boot/busybox',
    tag: '1',
    layers: [
      [
        { name: 'bin', type: 'dir' },
        { name: 'bin/busybox', content: bin, mode: 0o755 },
        ...applets.map((a) => ({ name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox' })),
      ],
    ],
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
  });
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'boot/site',
    tag: '1',
    layers: [[{ name: 'index.html', content: '<h1>site</h1>\n' }]],
  });
  if (!existsSync('/containers')) {
    mkdirSync('/containers');
    madeContainersDir = true;
  }
});

// The container's runc state is under the work directory: delete the container before that goes.
suite.onTeardown(() => spawnSync('runc', ['--root', join(suite.work, 'state', 'runc'), 'delete', '-f', 'web']));
after(() => {
  if (madeContainersDir) rmdirSync('/containers');
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('a built tree boots under runc: onboot writes a volume, a service serves it and an image-seeded read-only volume, restarts keep the data, onshutdown reads the logs', async () => {
  const port = await freePort();
  const system = `onboot:
  - name: seed
    image: REGISTRY/boot/busybox:1
    binds: [state:/state]
    command: ["/bin/sh", "-c", "echo hello-from-onboot > /state/greeting"]
services:
  - name: web
    image: REGISTRY/boot/busybox:1
    net: host
    binds: [state:/state, site:/www:ro, logs:/logs]
    command: ["/bin/sh", "-c", "echo started >> /logs/web.log && exec /bin/httpd -f -p 127.0.0.1:${port} -h /"]
onshutdown:
  - name: collect
    image: REGISTRY/boot/busybox:1
    binds: [logs:/logs:ro]
    command: ["/bin/cat", "/logs/web.log"]
volumes:
  - name: state
  - name: site
    image: REGISTRY/boot/site:1
    readonly: true
  - name: logs
`;
  const file = join(suite.work, 'system.yml');
  await writeFile(file, system.replaceAll('REGISTRY', suite.registry.host));
  const out = join(suite.work, 'out');
  await build({
    files: [file],
    out,
    cacheDir: join(suite.work, 'cache'),
    platform: 'linux/amd64',
    applyOwnership: true,
    rootfs: true,
  });
  const state = join(suite.work, 'state');
  mkdirSync(state);
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', process.execPath, init, out, state, String(port)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const report = JSON.parse(r.stdout || '{}') as Record<
    string,
    { status?: number; stdout?: string; stderr?: string; bundle?: string }[] & {
      status?: number;
      stdout?: string;
      stderr?: string;
    }
  > & { served?: string[]; servedAgain?: string; error?: string };
  assert.equal(report.error, undefined, `${report.error ?? ''}\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    report['onboot']?.map((x) => [x.bundle, x.status]),
    [['000-seed', 0]],
    JSON.stringify(report['onboot']),
  );
  assert.deepEqual(
    report['start']?.map((x) => x.status),
    [0],
  );
  assert.deepEqual(
    report.served,
    ['200 hello-from-onboot\n', '200 <h1>site</h1>\n'],
    'the service serves what onboot wrote and the image-seeded volume',
  );
  const ro = report['roWrite'] as unknown as { status: number; stderr: string };
  assert.notEqual(ro.status, 0);
  assert.match(ro.stderr, /Read-only file system/, 'a write into the read-only bind fails with EROFS');
  assert.equal((report['rwWrite'] as unknown as { stdout: string }).stdout, 'hello-from-onboot\nmore\n');
  assert.equal(
    (report['restart'] as unknown as { status: number }).status,
    0,
    'the service container was deleted and started again',
  );
  assert.equal(report.servedAgain, '200 hello-from-onboot\nmore\n', 'the volume outlived the container');
  assert.deepEqual(
    report['onshutdown']?.map((x) => [x.bundle, x.status, x.stdout]),
    [['000-collect', 0, 'started\nstarted\n']],
  );
  // Nothing of the boot is left on the host: the mounts lived in the namespace.
  assert.doesNotMatch(
    execFileSync('cat', ['/proc/self/mounts'], { encoding: 'utf8' }),
    new RegExp(out.replaceAll('/', '\\/')),
  );
});
