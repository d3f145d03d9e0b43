// Images from local files: OCI layouts (skopeo, umoci) and docker-archive tarballs, checked against the registry path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { pack } from 'tar-stream';
import { build, inspectImage, lock, type BuildOptions } from './index.js';
import { isLkvolError } from '../errors.js';
import { pushMultiPlatform, pushTarImage } from '../internal/testing/images.js';
import type { PushedImage } from '../internal/testing/push.js';
import { startRegistry, type TestRegistry } from '../internal/testing/registry.js';
import { buildTar, gzip, type TarEntry } from '../internal/testing/tar.js';
import { describeTree, walkTree } from '../internal/testing/tree.js';
import type { BuildEvent } from '../events.js';

const isRoot = process.getuid?.() === 0;
let registry: TestRegistry;
let work: string;
/** Where the layouts and archives made in `before` live: `images/layout` (skopeo), `images/data.tar`, `images/umoci`. */
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
  const policy = join(work, 'policy.json');
  await execa('skopeo', ['copy', '--policy', policy, '--src-tls-verify=false', ...args]);
}

before(async () => {
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'lkvol-local-'));
  images = join(work, 'images');
  await mkdir(images);
  await writeFile(join(work, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  data = await pushTarImage({ registry: registry.host, repository: 'li/data', tag: '1', layers });
  await pushMultiPlatform({ registry: registry.host, repository: 'li/multi', tag: '1', architectures: ['amd64', 'arm64'] });
  await pushTarImage({ registry: registry.host, repository: 'li/app', tag: '1', layers: [[{ name: 'app', content: 'app' }]], config: { Cmd: ['/app', '--serve'], Env: ['MODE=local'] } });
  await skopeo(`docker://${registry.host}/li/data:1`, `oci:${join(images, 'layout')}:data`);
  await skopeo('--all', `docker://${registry.host}/li/multi:1`, `oci:${join(images, 'layout')}:multi`);
  await skopeo(`docker://${registry.host}/li/app:1`, `oci:${join(images, 'layout')}:app`);
  await skopeo(`docker://${registry.host}/li/data:1`, `docker-archive:${join(images, 'data.tar')}:li/data:1`);
  await skopeo(`docker://${registry.host}/li/app:1`, `docker-archive:${join(images, 'app.tar')}`);
});

after(async () => {
  await registry?.stop();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

/** A system file in `work/<name>/`, which sees the images at `../images`. */
async function setup(name: string, yaml: string, extra: Partial<BuildOptions> = {}): Promise<BuildOptions & { dir: string; out: string }> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'system.yml'), yaml.replaceAll('REGISTRY', registry.host));
  return { dir, files: [join(dir, 'system.yml')], out: join(dir, 'out'), cacheDir: join(dir, 'cache'), platform: 'linux/amd64', applyOwnership: isRoot, ...extra };
}

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
    assert.deepEqual(byName.get('arc')!.layers.map((l) => l.digest), byName.get('reg')!.layers.map((l) => l.diffId));
    assert.deepEqual(byName.get('arc')!.layers.map((l) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar']);
    assert.equal(byName.get('arc')!.digest, byName.get('tagged')!.digest);
    assert.equal(byName.get('arc')!.contentDigest, byName.get('reg')!.contentDigest);
  });

  test('a layout made by umoci unpacks as umoci unpacks it', async () => {
    const layout = join(images, 'umoci');
    await execa('umoci', ['init', '--layout', layout]);
    await execa('umoci', ['new', '--image', `${layout}:base`]);
    const content = join(work, 'umoci-content');
    await mkdir(join(content, 'srv'), { recursive: true });
    await writeFile(join(content, 'srv', 'index.html'), '<h1>umoci</h1>\n');
    await execa('umoci', ['insert', ...(isRoot ? [] : ['--rootless']), '--image', `${layout}:base`, '--tag', 'site', join(content, 'srv'), '/srv']);
    const o = await setup('umoci', 'volumes:\n  - name: site\n    image: oci-layout:../images/umoci:site\n');
    await build(o);
    assert.equal(await readFile(join(lowerOf(o.out, 'site'), 'srv', 'index.html'), 'utf8'), '<h1>umoci</h1>\n');
    await execa('umoci', ['unpack', ...(isRoot ? [] : ['--rootless']), '--image', `${layout}:site`, join(work, 'umoci-bundle')]);
    assert.deepEqual(await treeOf(o.out, 'site'), describeTree(await walkTree(join(work, 'umoci-bundle', 'rootfs'))));
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
    await assert.rejects(build(s390), (e: unknown) => isLkvolError(e, 'LKVOL_PLATFORM_NOT_FOUND') && /linux\/arm64/.test(e.message));
    await assert.rejects(stat(s390.out));
  });

  test('a container may run a local image: its config drives the spec', async () => {
    const o = await setup('container', 'onboot:\n  - name: app\n    image: oci-layout:../images/layout:app\nservices:\n  - name: arc\n    image: docker-archive:../images/app.tar\n');
    const result = await build(o);
    for (const path of ['containers/onboot/000-app/config.json', 'containers/services/arc/config.json']) {
      const spec = JSON.parse(await readFile(join(o.out, path), 'utf8')) as { process: { args: string[]; env: string[] } };
      assert.deepEqual(spec.process.args, ['/app', '--serve'], path);
      assert.ok(spec.process.env.includes('MODE=local'), path);
    }
    assert.deepEqual(result.record.containers.map((c) => c.image), ['oci-layout:../images/layout:app', 'docker-archive:../images/app.tar']);
    // --rootfs unpacks them into their bundles as it does registry images.
    const rootfs = await setup('container-rootfs', 'onboot:\n  - name: app\n    image: oci-layout:../images/layout:app\nservices:\n  - name: arc\n    image: docker-archive:../images/app.tar\n', { rootfs: true });
    await build(rootfs);
    for (const bundle of ['onboot/000-app', 'services/arc']) assert.equal(await readFile(join(rootfs.out, 'containers', bundle, 'lower', 'app'), 'utf8'), 'app', bundle);
  });

  test('format: oci copies a local image into the volume as a layout, only the platforms asked for', async () => {
    const o = await setup('format-oci', 'volumes:\n  - name: imgs\n    image: oci-layout:../images/layout:multi\n    format: oci\n    platforms: [linux/arm64]\n');
    await build(o);
    const lower = lowerOf(o.out, 'imgs');
    const index = JSON.parse(await readFile(join(lower, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    assert.equal(index.manifests[0]!.annotations['org.opencontainers.image.ref.name'], 'oci-layout:../images/layout:multi');
    const inner = JSON.parse(await readFile(join(lower, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { manifests: { platform: { architecture: string } }[] };
    assert.deepEqual(inner.manifests.map((m) => m.platform.architecture), ['arm64']);
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
      assert.ok(e.message.includes(`system.yml:3:12: volumes[0].image: oci-layout:../images/nowhere: ${join(images, 'nowhere')} does not exist`), e.message);
      assert.ok(e.message.includes(`system.yml:5:12: volumes[1].image: oci-layout:../images: ${images} is not an OCI image layout`), e.message);
      assert.ok(e.message.includes(`system.yml:7:12: volumes[2].image: docker-archive:../images/none.tar: ${join(images, 'none.tar')} does not exist`), e.message);
      return true;
    });
    await assert.rejects(stat(o.out));
  });

  test('a name the layout or archive lacks is refused listing the names it has', async () => {
    const layout = await setup('no-name', 'volumes:\n  - name: v\n    image: oci-layout:../images/layout:nope\n');
    await assert.rejects(build(layout), (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /no image named "nope"/.test(e.message) && /"data", "multi", "app"/.test(e.message));
    const unnamed = await setup('no-default', 'volumes:\n  - name: v\n    image: oci-layout:../images/layout\n');
    await assert.rejects(build(unnamed), (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /3 images, none named "latest"/.test(e.message) && /oci-layout:\.\.\/images\/layout:/.test(e.hint ?? ''));
    const typo = await setup('typo', 'volumes:\n  - name: v\n    image: oci-layout:../images/layout:multy\n');
    await assert.rejects(build(typo), (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && e.hint === 'name one after the path: oci-layout:../images/layout:multi');
    const archive = await setup('no-tag', 'volumes:\n  - name: v\n    image: docker-archive:../images/data.tar:li/other:1\n');
    await assert.rejects(build(archive), (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /no image tagged "li\/other:1"/.test(e.message) && /li\/data:1/.test(e.message) && /docker-archive:\.\.\/images\/data\.tar:docker\.io\/li\/data:1/.test(e.hint ?? ''));
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
    await assert.rejects(build({ ...o, cacheDir: join(o.dir, 'cache2'), reuse: false }), (e: unknown) => isLkvolError(e, 'LKVOL_DIGEST_MISMATCH') && e.message.includes(layer.slice(7, 19)) && /written again|damaged/.test(e.hint ?? ''));
    assert.deepEqual(await treeOf(o.out, 'v'), before);
    const config = join(copy, 'blobs', 'sha256', data.configDigest.slice('sha256:'.length));
    await writeFile(config, (await readFile(config, 'utf8')).replace('amd64', 'arm64'));
    await assert.rejects(build({ ...o, cacheDir: join(o.dir, 'cache3'), reuse: false }), (e: unknown) => isLkvolError(e, 'LKVOL_DIGEST_MISMATCH') && e.message.includes(data.configDigest));
  });

  test('a blob missing from a layout is LKVOL_LOCAL_IMAGE naming it', async () => {
    const copy = join(images, 'incomplete');
    await cp(join(images, 'layout'), copy, { recursive: true });
    const layer = data.layerDigests[0]!;
    await rm(join(copy, 'blobs', 'sha256', layer.slice('sha256:'.length)));
    const o = await setup('incomplete', 'volumes:\n  - name: v\n    image: oci-layout:../images/incomplete:data\n');
    await assert.rejects(build(o), (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && e.message.includes(`layer ${layer}: does not exist`) && /copy the image into it again/.test(e.hint ?? ''));
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
    await assert.rejects(build(o), (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && e.message.includes(`layer ${data.layerDigests[0]!}: is not a regular file`));
    await rm(config);
    await symlink('/dev/zero', config);
    await assert.rejects(build(o), (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /blob sha256:\w+ .*: is not a regular file/.test(e.message));
    // inspect checks nothing first: the archive itself is opened the same way.
    await execa('mkfifo', [join(images, 'fifo.tar')]);
    await assert.rejects(inspectImage({ image: `docker-archive:${join(images, 'fifo.tar')}`, cacheDir: join(work, 'fifo-cache'), platform: 'linux/amd64' }), (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /is not a regular file/.test(e.message));
    await assert.rejects(stat(o.out));
  });

  test('a damaged layer in an archive fails its diff_id check; the archive is never trusted over its config', async () => {
    const archive = join(images, 'damaged.tar');
    const bytes = await readFile(join(images, 'data.tar'));
    const at = bytes.indexOf('payload-v2');
    assert.ok(at > 0);
    bytes[at] = 'P'.charCodeAt(0);
    await writeFile(archive, bytes);
    const o = await setup('damaged-archive', 'volumes:\n  - name: v\n    image: docker-archive:../images/damaged.tar\n');
    await assert.rejects(build(o), (e: unknown) => isLkvolError(e, 'LKVOL_DIGEST_MISMATCH'));
    await assert.rejects(stat(o.out));
  });

  test('an archive naming members it does not hold, or outside it, is refused by name; nothing is read from the host', async () => {
    const archive = join(images, 'hostile.tar');
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:' + '0'.repeat(64)] } });
    await writeArchive(archive, [
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', RepoTags: ['x:1'], Layers: ['../../../etc/passwd'] }]) },
      { name: 'c.json', content: config },
    ]);
    const o = await setup('hostile-archive', 'volumes:\n  - name: v\n    image: docker-archive:../images/hostile.tar\n');
    await assert.rejects(build(o), (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /layer 1 "\.\.\/\.\.\/\.\.\/etc\/passwd" is not a file in the archive/.test(e.message));
    await writeFile(join(images, 'not.tar'), 'not a tar at all, just text that goes on for a while'.repeat(20));
    const n = await setup('not-tar', 'volumes:\n  - name: v\n    image: docker-archive:../images/not.tar\n');
    await assert.rejects(build(n), (e: unknown) => isLkvolError(e, 'LKVOL_LOCAL_IMAGE') && /not a tar archive/.test(e.message));
  });
});

describe('docker save archives', () => {
  test('legacy layer.tar members (one gzip-compressed, one a symlink to another) and Docker 25 blobs/ members unpack', async () => {
    const first = await buildTar([{ name: 'one', content: '1' }]);
    const second = await buildTar([{ name: 'two', content: '2' }]);
    const compressed = gzip(second);
    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/one'] }, rootfs: { type: 'layers', diff_ids: [sha(first), sha(second), sha(first)] } }));
    const configHex = (sha(config)).slice(7);
    // docker save (before 25): <id>/layer.tar, a repeated layer as a symlink, the config as <hex>.json.
    await writeArchive(join(images, 'legacy.tar'), [
      { name: 'aaa/layer.tar', content: first },
      { name: 'bbb/layer.tar', content: compressed },
      { name: 'ccc/layer.tar', type: 'symlink', linkname: '../aaa/layer.tar' },
      { name: `${configHex}.json`, content: config },
      { name: 'manifest.json', content: JSON.stringify([{ Config: `${configHex}.json`, RepoTags: ['legacy:1'], Layers: ['aaa/layer.tar', 'bbb/layer.tar', 'ccc/layer.tar'] }]) },
    ]);
    // docker save 25+: an OCI layout inside, manifest.json naming blobs/sha256/<hex>.
    const firstHex = (sha(first)).slice(7);
    const compressedHex = (sha(compressed)).slice(7);
    await writeArchive(join(images, 'docker25.tar'), [
      { name: 'blobs/sha256/' + firstHex, content: first },
      { name: 'blobs/sha256/' + compressedHex, content: compressed },
      { name: 'blobs/sha256/' + configHex, content: config },
      { name: 'manifest.json', content: JSON.stringify([{ Config: `blobs/sha256/${configHex}`, RepoTags: ['docker.io/library/new:1'], Layers: [`blobs/sha256/${firstHex}`, `blobs/sha256/${compressedHex}`, `blobs/sha256/${firstHex}`] }]) },
      { name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
    ]);
    const o = await setup('docker-save', 'volumes:\n  - name: legacy\n    image: docker-archive:../images/legacy.tar:legacy:1\n  - name: new\n    image: docker-archive:../images/docker25.tar:new:1\n');
    const result = await build(o);
    for (const v of ['legacy', 'new']) {
      assert.equal(await readFile(join(lowerOf(o.out, v), 'one'), 'utf8'), '1', v);
      assert.equal(await readFile(join(lowerOf(o.out, v), 'two'), 'utf8'), '2', v);
    }
    const [legacy, fresh] = result.record.volumes;
    assert.deepEqual(legacy!.layers.map((l) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar']);
    assert.equal(legacy!.layers[1]!.digest, `sha256:${compressedHex}`);
    assert.deepEqual(fresh!.layers.map((l) => l.digest), legacy!.layers.map((l) => l.digest));
    // Same config and layers: the same manifest, whatever the archive's layout.
    assert.equal(fresh!.digest, legacy!.digest);
  });
});

describe('lock', () => {
  test('lkvol lock pins local images; an archive that changed fails the locked build naming both digests', async () => {
    await cp(join(images, 'data.tar'), join(images, 'moving.tar'));
    const o = await setup('lock', 'volumes:\n  - name: lay\n    image: oci-layout:../images/layout:data\n  - name: arc\n    image: docker-archive:../images/moving.tar\n');
    const locked = await lock({ files: o.files, cacheDir: o.cacheDir, platform: 'linux/amd64' });
    assert.equal(locked.lock.images['oci-layout:../images/layout:data']?.digest, data.manifestDigest);
    const pinned = locked.lock.images['docker-archive:../images/moving.tar']?.digest;
    assert.match(pinned ?? '', /^sha256:/);
    await build({ ...o, locked: true });
    await cp(join(images, 'app.tar'), join(images, 'moving.tar'));
    await assert.rejects(build({ ...o, locked: true }), (e: unknown) => isLkvolError(e, 'LKVOL_DIGEST_MISMATCH') && e.message.includes(pinned!) && /now holds another image/.test(e.message) && /lkvol lock --update/.test(e.hint ?? ''));
    assert.equal(await readFile(join(lowerOf(o.out, 'arc'), 'etc', 'app.conf'), 'utf8'), 'payload-v2');
  });
});

describe('air-gapped', () => {
  test('--offline with no registry running: volumes from a layout, an archive and a provisioner, cwd elsewhere', async () => {
    const o = await setup(
      'offline',
      'volumes:\n  - name: lay\n    image: oci-layout:../images/layout:data\n  - name: arc\n    image: docker-archive:../images/data.tar\n  - name: gen\n    provisioner:\n      command: [./gen.sh]\n',
    );
    await writeFile(join(o.dir, 'gen.sh'), '#!/bin/sh\nd=$(mktemp -d); echo generated > "$d/out"; tar -c -C "$d" .; rm -rf "$d"\n', { mode: 0o755 });
    await registry.stop();
    try {
      const result = await build({ ...o, offline: true, cwd: tmpdir(), credentialHelperEnv: { PATH: '/usr/bin:/bin' } });
      assert.deepEqual(result.record.volumes.map((v) => v.name).sort(), ['arc', 'gen', 'lay']);
      assert.equal(await readFile(join(lowerOf(o.out, 'lay'), 'etc', 'app.conf'), 'utf8'), 'payload-v2');
      assert.equal(await readFile(join(lowerOf(o.out, 'arc'), 'etc', 'app.conf'), 'utf8'), 'payload-v2');
      assert.equal(await readFile(join(lowerOf(o.out, 'gen'), 'out'), 'utf8'), 'generated\n');
    } finally {
      registry = await startRegistry();
    }
  });
});

/** Writes a tar of `entries` (buffers or strings) as `docker save` would lay it out. */
async function writeArchive(path: string, entries: { name: string; content?: string | Buffer; type?: 'symlink'; linkname?: string }[]): Promise<void> {
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
