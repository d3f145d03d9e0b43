// Images from local files: OCI layouts (skopeo, umoci) and docker-archive tarballs, checked against the registry path.
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { pack } from 'tar-stream';
import { sha256 } from '../internal/testing/push.js';
import { build, lock, type BuildOptions } from './index.js';
import { inspectImage } from '../pull/index.js';
import { isLkvolError } from '../errors.js';
import { pushMultiPlatform, pushTarImage } from '../internal/testing/images.js';
import type { PushedImage } from '../internal/testing/push.js';
import { buildTar, gzip, type TarEntry } from '../internal/testing/tar.js';
import { describeTree, walkTree } from '../internal/testing/tree.js';
import type { BuildEvent } from '../events.js';
import { useRegistry } from '../internal/testing/use-registry.js';

const isRoot = process.getuid?.() === 0;
const suite = useRegistry({ name: 'local' });
/**
 * Where the layouts and archives made in `before` live: `images/layout` (skopeo), `images/data.tar`, `images/umoci`.
 */
let images: string;
let data: PushedImage;

const layers: TarEntry[][] = [
  [
    { name: 'etc', type: 'dir' },
    { name: 'etc/app.conf', content: 'v1', mode: 0o640 },
    { name: 'etc/old', content: 'goes away' },
    { name: 'etc/link', type: 'symlink', linkname: 'app.conf' },
    { name: 'bin', type: 'dir', mode: 0o700 },
    { name: 'bin/tool', content: '#!/bin/sh\n', mode: 0o755 },
    { name: 'bin/tool2', type: 'link', linkname: 'bin/tool' },
  ],
  [
    { name: 'etc/.wh.old' },
    { name: 'etc/app.conf', content: 'payload-v2' },
    { name: 'var/lib/data', content: 'x'.repeat(5000) },
  ],
];

async function skopeo(...args: string[]): Promise<void> {
  const policy = join(suite.work, 'policy.json');
  await execa('skopeo', ['copy', '--policy', policy, '--src-tls-verify=false', ...args]);
}

suite.before(async () => {
  images = join(suite.work, 'images');
  await mkdir(images);
  await writeFile(join(suite.work, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  data = await pushTarImage({ registry: suite.registry.host, repository: 'li/data', tag: '1', layers });
  await pushMultiPlatform({
    registry: suite.registry.host,
    repository: 'li/multi',
    tag: '1',
    architectures: ['amd64', 'arm64'],
  });
  await pushTarImage({
    registry: suite.registry.host,
    repository: 'li/app',
    tag: '1',
    layers: [[{ name: 'app', content: 'app' }]],
    config: { Cmd: ['/app', '--serve'], Env: ['MODE=local'] },
  });
  await skopeo(`docker://${suite.registry.host}/li/data:1`, `oci:${join(images, 'layout')}:data`);
  await skopeo('--all', `docker://${suite.registry.host}/li/multi:1`, `oci:${join(images, 'layout')}:multi`);
  await skopeo(`docker://${suite.registry.host}/li/app:1`, `oci:${join(images, 'layout')}:app`);
  await skopeo(`docker://${suite.registry.host}/li/data:1`, `docker-archive:${join(images, 'data.tar')}:li/data:1`);
  await skopeo(`docker://${suite.registry.host}/li/app:1`, `docker-archive:${join(images, 'app.tar')}`);
});

/** Writes a system file (with `REGISTRY` replaced by the test registry) and returns build options around it. */
const setup = (name: string, yaml: string, extra: Partial<BuildOptions> = {}) => suite.buildOptions(name, yaml, extra);

const lowerOf = (out: string, volume: string) => join(out, 'containers', 'volumes', volume, 'lower');
const treeOf = async (out: string, volume: string) => describeTree(await walkTree(lowerOf(out, volume)));

describe('local image sources', () => {
  test('a skopeo layout and a docker-archive unpack to the same tree as the registry image; records name them as written', async () => {
    const o = await setup(
      'same-tree',
      'volumes:\n  - name: reg\n    image: REGISTRY/li/data:1\n  - name: lay\n    image: oci-layout:../images/layout:data\n  - name: arc\n    image: docker-archive:../images/data.tar\n  - name: tagged\n    image: docker-archive:../images/data.tar:li/data:1\n',
    );
    const result = await build(o);
    const registryTree = await treeOf(o.out, 'reg');
    assert.ok(registryTree.some((l) => l.includes('etc/app.conf')) && !registryTree.some((l) => l.includes('etc/old')));
    for (const v of ['lay', 'arc', 'tagged']) assert.deepEqual(await treeOf(o.out, v), registryTree, v);
    const byName = new Map(result.record.volumes.map((v) => [v.name, v]));
    assert.equal(byName.get('lay')!.image, 'oci-layout:../images/layout:data');
    assert.equal(byName.get('arc')!.image, 'docker-archive:../images/data.tar');
    // skopeo keeps the manifest bytes of an OCI image: the layout's image is the registry's, digest for digest.
    assert.equal(byName.get('lay')!.digest, data.manifestDigest);
    assert.equal(byName.get('reg')!.digest, data.manifestDigest);
    // The archive's layers are stored uncompressed: their digests are the diff_ids.
    assert.deepEqual(
      byName.get('arc')!.layers.map((l) => l.digest),
      byName.get('reg')!.layers.map((l) => l.diffId),
    );
    assert.deepEqual(
      byName.get('arc')!.layers.map((l) => l.mediaType),
      ['application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar'],
    );
    assert.equal(byName.get('arc')!.digest, byName.get('tagged')!.digest);
    assert.equal(byName.get('arc')!.contentDigest, byName.get('reg')!.contentDigest);
  });

  test('a layout made by umoci unpacks as umoci unpacks it', async () => {
    const layout = join(images, 'umoci');
    await execa('umoci', ['init', '--layout', layout]);
    await execa('umoci', ['new', '--image', `${layout}:base`]);
    const content = join(suite.work, 'umoci-content');
    await mkdir(join(content, 'srv'), { recursive: true });
    await writeFile(join(content, 'srv', 'index.html'), '<h1>umoci</h1>\n');
    await execa('umoci', [
      'insert',
      ...(isRoot ? [] : ['--rootless']),
      '--image',
      `${layout}:base`,
      '--tag',
      'site',
      join(content, 'srv'),
      '/srv',
    ]);
    const o = await setup('umoci', 'volumes:\n  - name: site\n    image: oci-layout:../images/umoci:site\n');
    await build(o);
    assert.equal(await readFile(join(lowerOf(o.out, 'site'), 'srv', 'index.html'), 'utf8'), '<h1>umoci</h1>\n');
    await execa('umoci', [
      'unpack',
      ...(isRoot ? [] : ['--rootless']),
      '--image',
      `${layout}:site`,
      join(suite.work, 'umoci-bundle'),
    ]);
    assert.deepEqual(
      await treeOf(o.out, 'site'),
      describeTree(await walkTree(join(suite.work, 'umoci-bundle', 'rootfs'))),
    );
  });

  test('an index in a layout resolves to the build platform; --platform picks another; a missing one lists what exists', async () => {
    const yaml = 'volumes:\n  - name: v\n    image: oci-layout:../images/layout:multi\n';
    const amd = await setup('platform-amd', yaml);
    await build(amd);
    assert.equal(await readFile(join(lowerOf(amd.out, 'v'), 'arch'), 'utf8'), 'amd64\n');
    const arm = await setup('platform-arm', yaml, { platform: 'linux/arm64' });
    const result = await build(arm);
    assert.equal(await readFile(join(lowerOf(arm.out, 'v'), 'arch'), 'utf8'), 'arm64\n');
    assert.equal(result.record.volumes[0]!.platform, 'linux/arm64');
    const s390 = await setup('platform-missing', yaml, { platform: 'linux/s390x' });
    await assert.rejects(
      build(s390),
      (e: unknown) => isLkvolError(e, 'LKVOL_PLATFORM_NOT_FOUND') && /linux\/arm64/.test(e.message),
    );
    await assert.rejects(stat(s390.out));
  });

  test('a container may run a local image: its config drives the spec', async () => {
    const o = await setup(
      'container',
      'onboot:\n  - name: app\n    image: oci-layout:../images/layout:app\nservices:\n  - name: arc\n    image: docker-archive:../images/app.tar\n',
    );
    const result = await build(o);
    for (const path of ['containers/onboot/000-app/config.json', 'containers/services/arc/config.json']) {
      const spec = JSON.parse(await readFile(join(o.out, path), 'utf8')) as {
        process: { args: string[]; env: string[] };
      };
      assert.deepEqual(spec.process.args, ['/app', '--serve'], path);
      assert.ok(spec.process.env.includes('MODE=local'), path);
    }
    assert.deepEqual(
      result.record.containers.map((c) => c.image),
      ['oci-layout:../images/layout:app', 'docker-archive:../images/app.tar'],
    );
    // --rootfs unpacks them into their bundles as it does registry images.
    const rootfs = await setup(
      'container-rootfs',
      'onboot:\n  - name: app\n    image: oci-layout:../images/layout:app\nservices:\n  - name: arc\n    image: docker-archive:../images/app.tar\n',
      { rootfs: true },
    );
    await build(rootfs);
    for (const bundle of ['onboot/000-app', 'services/arc'])
      assert.equal(await readFile(join(rootfs.out, 'containers', bundle, 'lower', 'app'), 'utf8'), 'app', bundle);
  });

  test('format: oci copies a local image into the volume as a layout, only the platforms asked for', async () => {
    const o = await setup(
      'format-oci',
      'volumes:\n  - name: imgs\n    image: oci-layout:../images/layout:multi\n    format: oci\n    platforms: [linux/arm64]\n',
    );
    await build(o);
    const lower = lowerOf(o.out, 'imgs');
    const index = JSON.parse(await readFile(join(lower, 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations: Record<string, string> }[];
    };
    assert.equal(
      index.manifests[0]!.annotations['org.opencontainers.image.ref.name'],
      'oci-layout:../images/layout:multi',
    );
    const inner = JSON.parse(
      await readFile(join(lower, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8'),
    ) as { manifests: { platform: { architecture: string } }[] };
    assert.deepEqual(
      inner.manifests.map((m) => m.platform.architecture),
      ['arm64'],
    );
  });

  test('a second build reuses the volume of an unchanged layout, reading only its documents', async () => {
    const o = await setup('reuse', 'volumes:\n  - name: v\n    image: oci-layout:../images/layout:data\n');
    await build(o);
    const events: BuildEvent[] = [];
    await build({ ...o, onEvent: (e) => events.push(e) });
    assert.ok(events.some((e) => e.kind === 'volume-done' && e.reused));
    assert.ok(!events.some((e) => e.kind === 'blob-start'));
  });
});

describe('local image errors', () => {
  test('a missing path, a directory that is no layout and a missing archive are reported at their lines before anything is read', async () => {
    const o = await setup(
      'missing',
      'volumes:\n  - name: a\n    image: oci-layout:../images/nowhere\n  - name: b\n    image: oci-layout:../images\n  - name: c\n    image: docker-archive:../images/none.tar\n',
    );
    await assert.rejects(build(o), (e: unknown) => {
      assert.ok(isLkvolError(e, 'LKVOL_CONFIG_INVALID'));
      assert.ok(
        e.message.includes(
          `system.yml:3:12: volumes[0].image: oci-layout:../images/nowhere: ${join(images, 'nowhere')} does not exist`,
        ),
        e.message,
      );
      assert.ok(
        e.message.includes(
          `system.yml:5:12: volumes[1].image: oci-layout:../images: ${images} is not an OCI image layout`,
        ),
        e.message,
      );
      assert.ok(
        e.message.includes(
          `system.yml:7:12: volumes[2].image: docker-archive:../images/none.tar: ${join(images, 'none.tar')} does not exist`,
        ),
        e.message,
      );
      return true;
    });
    await assert.rejects(stat(o.out));
  });

  test('a name the layout or archive lacks is refused listing the names it has', async () => {
    const layout = await setup('no-name', 'volumes:\n  - name: v\n    image: oci-layout:../images/layout:nope\n');
    await assert.rejects(
      build(layout),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LOCAL_IMAGE') &&
        /no image named "nope"/.test(e.message) &&
        /"data", "multi", "app"/.test(e.message),
    );
    const unnamed = await setup('no-default', 'volumes:\n  - name: v\n    image: oci-layout:../images/layout\n');
    await assert.rejects(
      build(unnamed),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LOCAL_IMAGE') &&
        /3 images, none named "latest"/.test(e.message) &&
        /oci-layout:\.\.\/images\/layout:/.test(e.hint ?? ''),
    );
    const typo = await setup('typo', 'volumes:\n  - name: v\n    image: oci-layout:../images/layout:multy\n');
    await assert.rejects(
      build(typo),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && e.hint === 'name one after the path: oci-layout:../images/layout:multi',
    );
    const archive = await setup(
      'no-tag',
      'volumes:\n  - name: v\n    image: docker-archive:../images/data.tar:li/other:1\n',
    );
    await assert.rejects(
      build(archive),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LOCAL_IMAGE') &&
        /no image tagged "li\/other:1"/.test(e.message) &&
        /li\/data:1/.test(e.message) &&
        /docker-archive:\.\.\/images\/data\.tar:docker\.io\/li\/data:1/.test(e.hint ?? ''),
    );
    for (const o of [layout, unnamed, archive]) await assert.rejects(stat(o.out));
  });

  test('a damaged layer or config in a layout is a digest mismatch naming the blob; the previous output stays', async () => {
    const copy = join(images, 'damaged');
    await cp(join(images, 'layout'), copy, { recursive: true });
    const o = await setup('damaged', 'volumes:\n  - name: v\n    image: oci-layout:../images/damaged:data\n');
    await build(o);
    const before = await treeOf(o.out, 'v');
    const layer = data.layerDigests[1]!;
    const blob = join(copy, 'blobs', 'sha256', layer.slice('sha256:'.length));
    const bytes = await readFile(blob);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    await writeFile(blob, bytes);
    // An unchanged manifest would let the volume be reused: --no-reuse reads the layer again.
    await assert.rejects(
      build({ ...o, cacheDir: join(o.dir, 'cache2'), reuse: false }),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_DIGEST_MISMATCH') &&
        e.message.includes(layer.slice(7, 19)) &&
        /written again|damaged/.test(e.hint ?? ''),
    );
    assert.deepEqual(await treeOf(o.out, 'v'), before);
    const config = join(copy, 'blobs', 'sha256', data.configDigest.slice('sha256:'.length));
    await writeFile(config, (await readFile(config, 'utf8')).replace('amd64', 'arm64'));
    await assert.rejects(
      build({ ...o, cacheDir: join(o.dir, 'cache3'), reuse: false }),
      (e: unknown) => isLkvolError(e, 'LKVOL_DIGEST_MISMATCH') && e.message.includes(data.configDigest),
    );
  });

  test('a blob missing from a layout is LKVOL_LOCAL_IMAGE naming it', async () => {
    const copy = join(images, 'incomplete');
    await cp(join(images, 'layout'), copy, { recursive: true });
    const layer = data.layerDigests[0]!;
    await rm(join(copy, 'blobs', 'sha256', layer.slice('sha256:'.length)));
    const o = await setup('incomplete', 'volumes:\n  - name: v\n    image: oci-layout:../images/incomplete:data\n');
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LOCAL_IMAGE') &&
        e.message.includes(`layer ${layer}: does not exist`) &&
        /copy the image into it again/.test(e.hint ?? ''),
    );
    await assert.rejects(stat(o.out));
  });

  test('a FIFO or a device where a blob or an archive should be is refused at once, not waited on', async () => {
    const copy = join(images, 'fifo-layout');
    await cp(join(images, 'layout'), copy, { recursive: true });
    const layer = join(copy, 'blobs', 'sha256', data.layerDigests[0]!.slice('sha256:'.length));
    await rm(layer);
    await execa('mkfifo', [layer]);
    const config = join(copy, 'blobs', 'sha256', data.configDigest.slice('sha256:'.length));
    const o = await setup('fifo', 'volumes:\n  - name: v\n    image: oci-layout:../images/fifo-layout:data\n');
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LOCAL_IMAGE') &&
        e.message.includes(`layer ${data.layerDigests[0]!}: is not a regular file`),
    );
    await rm(config);
    await execa('mkfifo', [config]);
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /blob sha256:\w+ .*: is not a regular file/.test(e.message),
    );
    // inspect checks nothing first: the archive itself is opened the same way.
    await execa('mkfifo', [join(images, 'fifo.tar')]);
    await assert.rejects(
      inspectImage({
        image: `docker-archive:${join(images, 'fifo.tar')}`,
        cacheDir: join(suite.work, 'fifo-cache'),
        platform: 'linux/amd64',
      }),
      (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /is not a regular file/.test(e.message),
    );
    await assert.rejects(stat(o.out));
  });

  test('a damaged layer in an archive fails: as a blob when its digest is its diff_id, at its diff_id when its member name states another', async () => {
    const archive = join(images, 'damaged.tar');
    const bytes = await readFile(join(images, 'data.tar'));
    const at = bytes.indexOf('payload-v2');
    assert.ok(at > 0);
    bytes[at] = 'P'.charCodeAt(0);
    await writeFile(archive, bytes);
    const o = await setup(
      'damaged-archive',
      'volumes:\n  - name: v\n    image: docker-archive:../images/damaged.tar\n',
    );
    await assert.rejects(
      build(o),
      (e: unknown) => isLkvolError(e, 'LKVOL_DIGEST_MISMATCH') && /blob .* digest mismatch/.test(e.message),
    );
    await assert.rejects(stat(o.out));
    // A Docker 25 archive names the damaged bytes by their own hash: the blob checks out, the diff_id from the config
    // does not.
    const good = await buildTar([{ name: 'f', content: 'good' }]);
    const bad = await buildTar([{ name: 'f', content: 'evil' }]);
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(good)] } }),
    );
    await writeArchive(join(images, 'diffid.tar'), [
      { name: `blobs/sha256/${sha256(bad).slice(7)}`, content: bad },
      { name: `blobs/sha256/${sha256(config).slice(7)}`, content: config },
      {
        name: 'manifest.json',
        content: JSON.stringify([
          {
            Config: `blobs/sha256/${sha256(config).slice(7)}`,
            RepoTags: null,
            Layers: [`blobs/sha256/${sha256(bad).slice(7)}`],
          },
        ]),
      },
    ]);
    const d = await setup('diffid-archive', 'volumes:\n  - name: v\n    image: docker-archive:../images/diffid.tar\n');
    await assert.rejects(
      build(d),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_DIGEST_MISMATCH') && e.message.includes('diff_id') && e.message.includes(sha256(good)),
    );
    await assert.rejects(stat(d.out));
  });

  test('a layout blob that links out of the layout, or to a file of another size, is refused without reading it', async () => {
    const copy = join(images, 'linked');
    await cp(join(images, 'layout'), copy, { recursive: true });
    const o = await setup('linked', 'volumes:\n  - name: v\n    image: oci-layout:../images/linked:data\n');
    const config = join(copy, 'blobs', 'sha256', data.configDigest.slice('sha256:'.length));
    await rm(config);
    await symlink('/etc/passwd', config);
    const passwdHash = sha256(await readFile('/etc/passwd'));
    await assert.rejects(
      inspectImage({ image: `oci-layout:${copy}:data`, cacheDir: join(o.dir, 'cache-i'), platform: 'linux/amd64' }),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /is a link out of/.test(e.message) && !e.message.includes(passwdHash),
    );
    await rm(config);
    await cp(join(images, 'layout', 'blobs', 'sha256', data.configDigest.slice('sha256:'.length)), config);
    // A layer that reads for ever (a /proc file of size 0), linked from inside the layout: its size is not the
    // descriptor's.
    const layer = join(copy, 'blobs', 'sha256', data.layerDigests[0]!.slice('sha256:'.length));
    await rm(layer);
    await symlink('/proc/self/pagemap', join(copy, 'pagemap'));
    await symlink('../../pagemap', layer);
    await assert.rejects(
      build(o),
      (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /is a link out of/.test(e.message),
    );
    await rm(join(copy, 'pagemap'));
    await writeFile(join(copy, 'pagemap'), 'short');
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_DIGEST_MISMATCH') &&
        /size mismatch/.test(e.message) &&
        e.message.includes('a file of 5 bytes'),
    );
    await assert.rejects(stat(o.out));
  });

  test("a malformed manifest in a layout is the layout's fault (LKVOL_LOCAL_IMAGE), not a registry protocol error", async () => {
    const dir = join(images, 'malformed');
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: data.configDigest, size: 1 },
        layers: [],
        manifests: [],
      }),
    );
    await writeFile(join(dir, 'blobs', 'sha256', sha256(manifest).slice(7)), manifest);
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(
      join(dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length },
        ],
      }),
    );
    const o = await setup('malformed', 'volumes:\n  - name: v\n    image: oci-layout:../images/malformed\n');
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LOCAL_IMAGE') &&
        /ambiguous/.test(e.message) &&
        /malformed index or manifest: write it again/.test(e.hint ?? ''),
    );
  });

  test('cancelling while a large archive is read stops the reading, as a cancellation', async () => {
    const archive = join(images, 'huge.tar');
    await execa('truncate', ['-s', '16G', archive]);
    // inspect maps no late error to a cancellation: only the reader stopping gives LKVOL_CANCELLED.
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    await assert.rejects(
      inspectImage({
        image: `docker-archive:${archive}`,
        cacheDir: join(suite.work, 'cancel-cache'),
        platform: 'linux/amd64',
        signal: abort.signal,
      }),
      (e: unknown) => isLkvolError(e, 'LKVOL_CANCELLED'),
    );
    await rm(archive);
  });

  test('an archive naming members it does not hold, or outside it, is refused by name; nothing is read from the host', async () => {
    const archive = join(images, 'hostile.tar');
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: ['sha256:' + '0'.repeat(64)] },
    });
    await writeArchive(archive, [
      {
        name: 'manifest.json',
        content: JSON.stringify([{ Config: 'c.json', RepoTags: ['x:1'], Layers: ['../../../etc/passwd'] }]),
      },
      { name: 'c.json', content: config },
    ]);
    const o = await setup(
      'hostile-archive',
      'volumes:\n  - name: v\n    image: docker-archive:../images/hostile.tar\n',
    );
    await assert.rejects(
      build(o),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LOCAL_IMAGE') &&
        /layer 1 "\.\.\/\.\.\/\.\.\/etc\/passwd" is not a file in the archive/.test(e.message),
    );
    await writeArchive(join(images, 'long-name.tar'), [{ name: `${'n'.repeat(2000)}`, content: 'x' }]);
    const long = await setup('long-name', 'volumes:\n  - name: v\n    image: docker-archive:../images/long-name.tar\n');
    await assert.rejects(
      build(long),
      (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /member name of 2000 bytes/.test(e.message),
    );
    await writeFile(join(images, 'not.tar'), 'not a tar at all, just text that goes on for a while'.repeat(20));
    const n = await setup('not-tar', 'volumes:\n  - name: v\n    image: docker-archive:../images/not.tar\n');
    await assert.rejects(
      build(n),
      (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /not a tar archive/.test(e.message),
    );
  });
});

describe('docker save archives', () => {
  test('legacy layer.tar members (one gzip-compressed, one a symlink to another) and Docker 25 blobs/ members unpack', async () => {
    const first = await buildTar([{ name: 'one', content: '1' }]);
    const second = await buildTar([{ name: 'two', content: '2' }]);
    const compressed = gzip(second);
    const sha = sha256;
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/one'] },
        rootfs: { type: 'layers', diff_ids: [sha(first), sha(second), sha(first)] },
      }),
    );
    const configHex = sha(config).slice(7);
    // docker save (before 25): <id>/layer.tar, a repeated layer as a symlink, the config as <hex>.json.
    await writeArchive(join(images, 'legacy.tar'), [
      { name: 'aaa/layer.tar', content: first },
      { name: 'bbb/layer.tar', content: compressed },
      { name: 'ccc/layer.tar', type: 'symlink', linkname: '../aaa/layer.tar' },
      { name: `${configHex}.json`, content: config },
      {
        name: 'manifest.json',
        content: JSON.stringify([
          {
            Config: `${configHex}.json`,
            RepoTags: ['legacy:1'],
            Layers: ['aaa/layer.tar', 'bbb/layer.tar', 'ccc/layer.tar'],
          },
        ]),
      },
    ]);
    // docker save 25+: an OCI layout inside, manifest.json naming blobs/sha256/<hex>.
    const firstHex = sha(first).slice(7);
    const compressedHex = sha(compressed).slice(7);
    await writeArchive(join(images, 'docker25.tar'), [
      { name: 'blobs/sha256/' + firstHex, content: first },
      { name: 'blobs/sha256/' + compressedHex, content: compressed },
      { name: 'blobs/sha256/' + configHex, content: config },
      {
        name: 'manifest.json',
        content: JSON.stringify([
          {
            Config: `blobs/sha256/${configHex}`,
            RepoTags: ['docker.io/library/new:1'],
            Layers: [`blobs/sha256/${firstHex}`, `blobs/sha256/${compressedHex}`, `blobs/sha256/${firstHex}`],
          },
        ]),
      },
      { name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
    ]);
    const o = await setup(
      'docker-save',
      'volumes:\n  - name: legacy\n    image: docker-archive:../images/legacy.tar:legacy:1\n  - name: new\n    image: docker-archive:../images/docker25.tar:new:1\n',
    );
    const result = await build(o);
    for (const v of ['legacy', 'new']) {
      assert.equal(await readFile(join(lowerOf(o.out, v), 'one'), 'utf8'), '1', v);
      assert.equal(await readFile(join(lowerOf(o.out, v), 'two'), 'utf8'), '2', v);
    }
    const [legacy, fresh] = result.record.volumes;
    assert.deepEqual(
      legacy!.layers.map((l) => l.mediaType),
      [
        'application/vnd.oci.image.layer.v1.tar',
        'application/vnd.oci.image.layer.v1.tar+gzip',
        'application/vnd.oci.image.layer.v1.tar',
      ],
    );
    assert.equal(legacy!.layers[1]!.digest, `sha256:${compressedHex}`);
    assert.deepEqual(
      fresh!.layers.map((l) => l.digest),
      legacy!.layers.map((l) => l.digest),
    );
    // Same config and layers: the same manifest, whatever the archive's layout.
    assert.equal(fresh!.digest, legacy!.digest);
  });
});

describe('compressed docker save archives', () => {
  test('docker save | gzip and | zstd are read from a decompressed copy that goes when the build ends; xz and a broken stream are refused', async () => {
    const tar = await readFile(join(images, 'data.tar'));
    await writeFile(join(images, 'data.tar.gz'), gzip(tar));
    await execa('zstd', ['-q', '-f', join(images, 'data.tar'), '-o', join(images, 'data.tar.zst')]);
    const o = await setup(
      'compressed',
      'volumes:\n  - name: gz\n    image: docker-archive:../images/data.tar.gz\n  - name: zst\n    image: docker-archive:../images/data.tar.zst\n  - name: plain\n    image: docker-archive:../images/data.tar\n',
    );
    const result = await build(o);
    for (const v of ['gz', 'zst']) assert.deepEqual(await treeOf(o.out, v), await treeOf(o.out, 'plain'), v);
    assert.equal(
      new Set(result.record.volumes.map((v) => v.digest)).size,
      1,
      'the same image whatever the compression',
    );
    assert.deepEqual(await readdir(join(o.cacheDir!, 'v1', 'tmp')), []);
    await writeFile(
      join(images, 'data.tar.xz'),
      Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(64)]),
    );
    const xz = await setup('xz', 'volumes:\n  - name: v\n    image: docker-archive:../images/data.tar.xz\n');
    await assert.rejects(
      build(xz),
      (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /compressed with xz/.test(e.message),
    );
    const gz = gzip(tar);
    await writeFile(join(images, 'broken.tar.gz'), gz.subarray(0, gz.length - 20));
    const broken = await setup(
      'broken-gz',
      'volumes:\n  - name: v\n    image: docker-archive:../images/broken.tar.gz\n',
    );
    await assert.rejects(
      build(broken),
      (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /gzip-compressed but does not decompress/.test(e.message),
    );
    assert.deepEqual(await readdir(join(broken.cacheDir!, 'v1', 'tmp')), []);
  });
});

describe('docker save archives: choosing the image', () => {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  test('a name matches a RepoTag as written or normalised, never two names that are not references; two images tagged alike are refused', async () => {
    await writeArchive(join(images, 'tags.tar'), [
      { name: 'c.json', content: config },
      {
        name: 'manifest.json',
        content: JSON.stringify([
          { Config: 'c.json', RepoTags: ['Some Weird Tag'], Layers: [] },
          { Config: 'c.json', RepoTags: ['busybox:1', 'dup:1'], Layers: [] },
          { Config: 'c.json', RepoTags: ['dup:1'], Layers: [] },
        ]),
      },
    ]);
    const pick = async (name: string) =>
      build(
        await setup(
          `tags-${name.replace(/\W/g, '')}`,
          `volumes:\n  - name: v\n    image: docker-archive:../images/tags.tar:${name}\n`,
        ),
      );
    await pick('docker.io/library/busybox:1');
    await assert.rejects(
      pick('NOT-THERE'),
      (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /no image tagged "NOT-THERE"/.test(e.message),
    );
    await assert.rejects(
      pick('dup:1'),
      (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /2 images tagged "dup:1"/.test(e.message),
    );
  });

  test("a symlink member with an absolute target is found from the archive's root; format: oci copies an archive's image", async () => {
    const tar = await buildTar([{ name: 'abs', content: 'root' }]);
    const c = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(tar)] } }),
    );
    await writeArchive(join(images, 'abs.tar'), [
      { name: 'real/layer.tar', content: tar },
      { name: 'link/layer.tar', type: 'symlink', linkname: '/real/layer.tar' },
      { name: 'c.json', content: c },
      {
        name: 'manifest.json',
        content: JSON.stringify([{ Config: 'c.json', RepoTags: null, Layers: ['link/layer.tar'] }]),
      },
    ]);
    const o = await setup(
      'abs-link',
      'volumes:\n  - name: v\n    image: docker-archive:../images/abs.tar\n  - name: layout\n    image: docker-archive:../images/abs.tar\n    format: oci\n',
    );
    const result = await build(o);
    assert.equal(await readFile(join(lowerOf(o.out, 'v'), 'abs'), 'utf8'), 'root');
    // skopeo reads the volume's layout back, verifying every blob (the config included).
    await execa('skopeo', [
      'copy',
      '--insecure-policy',
      `oci:${lowerOf(o.out, 'layout')}`,
      `oci:${join(o.dir, 'copied')}:x`,
    ]);
    assert.equal(result.record.volumes[1]!.digest, result.record.volumes[0]!.digest);
    assert.ok((await stat(join(o.dir, 'copied', 'index.json'))).isFile());
  });

  test('the same words naming two local images from two directories are refused at their lines', async () => {
    const a = await setup('same-words-a', 'volumes:\n  - name: a\n    image: docker-archive:img.tar\n');
    const b = await setup('same-words-b', 'volumes:\n  - name: b\n    image: docker-archive:img.tar\n');
    for (const [dir, from] of [
      [a.dir, 'data.tar'],
      [b.dir, 'app.tar'],
    ] as const)
      await cp(join(images, from), join(dir, 'img.tar'));
    // The same directory written two ways is one path: no complaint.
    await writeFile(join(a.dir, 'more.yml'), 'volumes:\n  - name: more\n    image: docker-archive:img.tar\n');
    await build({ ...a, files: [join(a.dir, 'system.yml'), 'more.yml'], cwd: a.dir });
    await assert.rejects(
      build({ ...a, files: [...a.files, ...b.files] }),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_CONFIG_INVALID') &&
        /same-words-b\/system\.yml:3:12: volumes\[\d\]\.image: "docker-archive:img\.tar" leads to .*same-words-b\/img\.tar, but the same words at .*same-words-a\/system\.yml:3:12 lead to .*same-words-a\/img\.tar/.test(
          e.message,
        ),
    );
  });
});

describe('lock', () => {
  test('lkvol lock pins local images; an archive that changed fails the locked build naming both digests', async () => {
    await cp(join(images, 'data.tar'), join(images, 'moving.tar'));
    const o = await setup(
      'lock',
      'volumes:\n  - name: lay\n    image: oci-layout:../images/layout:data\n  - name: arc\n    image: docker-archive:../images/moving.tar\n',
    );
    const locked = await lock({ files: o.files, cacheDir: o.cacheDir, platform: 'linux/amd64' });
    assert.equal(locked.lock.images['oci-layout:../images/layout:data']?.digest, data.manifestDigest);
    const pinned = locked.lock.images['docker-archive:../images/moving.tar']?.digest;
    assert.match(pinned ?? '', /^sha256:/);
    await build({ ...o, locked: true });
    await cp(join(images, 'app.tar'), join(images, 'moving.tar'));
    const now = (
      await inspectImage({
        image: `docker-archive:${join(images, 'moving.tar')}`,
        cacheDir: join(o.dir, 'cache-now'),
        platform: 'linux/amd64',
      })
    ).digest;
    assert.notEqual(now, pinned);
    await assert.rejects(
      build({ ...o, locked: true }),
      (e: unknown) =>
        isLkvolError(e, 'LKVOL_LOCAL_IMAGE') &&
        e.message.includes(`now holds image ${now}, not the ${pinned!} the reference pins`) &&
        /lkvol lock --update/.test(e.hint ?? ''),
    );
    assert.equal(await readFile(join(lowerOf(o.out, 'arc'), 'etc', 'app.conf'), 'utf8'), 'payload-v2');
  });
});

/** Set by the air-gapped test, which stops the file's registry: a test after it would fail for that alone. */
let registryStopped = false;
beforeEach(() => assert.ok(!registryStopped, 'the air-gapped test stopped the registry: it must stay the last test'));

describe('air-gapped', () => {
  test('--offline with no registry running: volumes from a layout, an archive and a provisioner, cwd elsewhere', async () => {
    const o = await setup(
      'offline',
      'volumes:\n  - name: lay\n    image: oci-layout:../images/layout:data\n  - name: arc\n    image: docker-archive:../images/data.tar\n  - name: gen\n    provisioner:\n      command: [./gen.sh]\n',
    );
    await writeFile(
      join(o.dir, 'gen.sh'),
      '#!/bin/sh\nd=$(mktemp -d); echo generated > "$d/out"; tar -c -C "$d" .; rm -rf "$d"\n',
      { mode: 0o755 },
    );
    // NB: the registry stays down for the rest of the file, so this test comes last (beforeEach checks it).
    registryStopped = true;
    await suite.registry.stop();
    const result = await build({
      ...o,
      offline: true,
      cwd: tmpdir(),
      env: { PATH: '/usr/bin:/bin' },
    });
    assert.deepEqual(result.record.volumes.map((v) => v.name).sort(), ['arc', 'gen', 'lay']);
    assert.equal(await readFile(join(lowerOf(o.out, 'lay'), 'etc', 'app.conf'), 'utf8'), 'payload-v2');
    assert.equal(await readFile(join(lowerOf(o.out, 'arc'), 'etc', 'app.conf'), 'utf8'), 'payload-v2');
    assert.equal(await readFile(join(lowerOf(o.out, 'gen'), 'out'), 'utf8'), 'generated\n');
  });
});

/** Writes a tar of `entries` (buffers or strings) as `docker save` would lay it out. */
async function writeArchive(
  path: string,
  entries: { name: string; content?: string | Buffer; type?: 'symlink'; linkname?: string }[],
): Promise<void> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const e of entries) {
    if (e.type === 'symlink') p.entry({ name: e.name, type: 'symlink', linkname: e.linkname ?? '' });
    else p.entry({ name: e.name, size: Buffer.byteLength(e.content ?? '') }, e.content ?? '');
  }
  p.finalize();
  await done;
  await writeFile(path, Buffer.concat(chunks));
}
