// Every examples/*.yml builds against a registry holding the example images, so the examples cannot go stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build, type BuildOptions } from './index.js';
import { pushExampleImages } from '../internal/testing/example-images.js';
import { repoRoot, testdataPath } from '../internal/testing/testdata.js';
import { describeTree, walkTree } from '../internal/testing/tree.js';
import { useRegistry } from '../internal/testing/use-registry.js';

/** The registry the example files name; `make example` runs one there, the test rewrites it to its own. */
const exampleRegistry = '127.0.0.1:5391';
const examples = join(repoRoot(), 'examples');
const suite = useRegistry({ name: 'examples' });

suite.before(async () => {
  await pushExampleImages(suite.registry.host, join(examples, 'images'));
});

async function buildExample(name: string, extra: Partial<BuildOptions> = {}): Promise<string> {
  const file = join(suite.work, name);
  await writeFile(
    file,
    (await readFile(join(examples, name), 'utf8')).replaceAll(exampleRegistry, suite.registry.host),
  );
  // Provisioners and local images are relative to their system file: they come along.
  for (const f of (await readdir(examples)).filter((n) => n.endsWith('.sh')))
    await copyFile(join(examples, f), join(suite.work, f));
  await cp(join(examples, 'sources'), join(suite.work, 'sources'), { recursive: true });
  const out = join(suite.work, `${name}.out`);
  // The environment the CLI would pass: the example's provisioner finds its tools on PATH.
  const env = { PATH: '/usr/bin:/bin', HOME: suite.work };
  await build({ files: [file], out, cacheDir: join(suite.work, 'cache'), platform: 'linux/amd64', env, ...extra });
  return out;
}

test('every example builds', async () => {
  const files = (await readdir(examples)).filter((f) => f.endsWith('.yml'));
  assert.ok(files.length > 0);
  for (const f of files) await buildExample(f);
});

test('web.yml: assets unpacked with the draft whited out, blank volumes empty, binds in place', async () => {
  const out = await buildExample('web.yml');
  const volumes = join(out, 'containers', 'volumes');
  const assets = describeTree(await walkTree(join(volumes, 'assets', 'lower'))).map((l) =>
    l.split(' ').slice(0, 3).join(' '),
  );
  assert.deepEqual(assets, [
    'about.html file 0644',
    'css dir 0755',
    'css/site.css file 0644',
    'img dir 0755',
    'img/logo.svg file 0644',
    'index.html file 0644',
  ]);
  for (const blank of ['config', 'logs']) assert.deepEqual(await readdir(join(volumes, blank, 'lower')), []);
  assert.equal(
    await readFile(join(volumes, 'banner', 'lower', 'banner.txt'), 'utf8'),
    'Welcome to the lkvol example appliance (banner, linux/amd64).\n',
    "the provisioner's volume",
  );
  assert.deepEqual((await readdir(join(out, 'containers'))).sort(), ['onboot', 'onshutdown', 'services', 'volumes']);
  const web = JSON.parse(await readFile(join(out, 'containers/services/web/config.json'), 'utf8')) as {
    mounts: { destination: string; source: string; options: string[] }[];
    process: { args: string[]; capabilities: { bounding: string[] } };
  };
  const volumeMounts = web.mounts
    .filter((m) => m.source.startsWith('/containers/volumes/'))
    .map((m) => `${m.destination} ${m.source} ${m.options.join(',')}`);
  assert.deepEqual(volumeMounts, [
    '/etc/banner /containers/volumes/banner/merged ro,rbind',
    '/etc/site /containers/volumes/config/merged ro,rbind',
    '/srv/www /containers/volumes/assets/merged ro,rbind',
    '/usr/share/doc/site /containers/volumes/assets/merged rbind,ro',
    '/var/log/httpd /containers/volumes/logs/merged rw,rbind,rshared',
  ]);
  assert.deepEqual(web.process.args, ['/usr/sbin/httpd']);
  assert.deepEqual(web.process.capabilities.bounding, ['CAP_NET_BIND_SERVICE', 'CAP_SETGID', 'CAP_SETUID']);
  const shipLogs = JSON.parse(await readFile(join(out, 'containers/onshutdown/000-ship-logs/config.json'), 'utf8')) as {
    mounts: { destination: string; options: string[] }[];
  };
  assert.deepEqual(shipLogs.mounts.find((m) => m.destination === '/logs')?.options, ['ro', 'rbind']);
});

test('web.yml: every config.json and runtime.json is byte for byte the reviewed golden (UPDATE_GOLDEN=1 rewrites)', async () => {
  const out = await buildExample('web.yml');
  const bundles = ['onboot/000-seed-config', 'services/web', 'onshutdown/000-ship-logs'];
  for (const bundle of bundles) {
    for (const file of ['config.json', 'runtime.json']) {
      const got = await readFile(join(out, 'containers', bundle, file), 'utf8');
      const golden = testdataPath('build', 'web', bundle, file);
      if (process.env['UPDATE_GOLDEN'] === '1') {
        await mkdir(dirname(golden), { recursive: true });
        await writeFile(golden, got);
      }
      assert.equal(got, await readFile(golden, 'utf8'), `${bundle}/${file}`);
    }
  }
});

test("airgap.yml builds offline from examples/sources/ alone, to what web.yml makes of the registry's images", async () => {
  const web = await buildExample('web.yml');
  const airgap = await buildExample('airgap.yml', { offline: true, cacheDir: join(suite.work, 'airgap-cache') });
  const tree = async (out: string, volume: string) =>
    describeTree(await walkTree(join(out, 'containers', 'volumes', volume, 'lower')));
  for (const volume of ['assets', 'config', 'banner'])
    assert.deepEqual(await tree(airgap, volume), await tree(web, volume), volume);
  // The same images, so the same specs (the local images hold what the registry serves).
  for (const bundle of ['onboot/000-seed-config', 'services/web']) {
    const spec = async (out: string) =>
      JSON.parse(await readFile(join(out, 'containers', bundle, 'config.json'), 'utf8')) as {
        process: unknown;
        mounts: { destination: string }[];
      };
    const [a, w] = [await spec(airgap), await spec(web)];
    assert.deepEqual(a.process, w.process, bundle);
    for (const m of a.mounts)
      assert.ok(
        w.mounts.some((x) => x.destination === m.destination),
        `${bundle} ${m.destination}`,
      );
  }
  const record = JSON.parse(await readFile(join(airgap, 'lkvol.json'), 'utf8')) as { images: Record<string, string> };
  const pushed = JSON.parse(await readFile(join(web, 'lkvol.json'), 'utf8')) as { images: Record<string, string> };
  // skopeo's layout keeps the registry's manifests: examples/sources/ is what `make example-sources` writes from
  // examples/images/.
  assert.equal(
    record.images['oci-layout:sources/layout:site-assets'],
    pushed.images[`${suite.registry.host}/lkvol-example/site-assets:2025-06`],
  );
  assert.equal(
    record.images['oci-layout:sources/layout:httpd'],
    pushed.images[`${suite.registry.host}/lkvol-example/httpd:1.0`],
  );
});
