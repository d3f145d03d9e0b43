// Errors name where they happened: the volume, container or image (README "Errors"), in the message and in `context`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build, type BuildOptions } from './index.js';
import { isLkvolError, type ErrorCode, type LkvolError } from '../errors.js';
import { useRegistry } from '../internal/testing/use-registry.js';
import { pushTarImage } from '../internal/testing/images.js';

const suite = useRegistry({ name: 'context' });
let evilLayer: string;

suite.before(async () => {
  const r = suite.registry.host;
  const layers = [[{ name: 'bin/sh', content: '#!/bin/sh\n', mode: 0o755 }]];
  evilLayer = (
    await pushTarImage({
      registry: r,
      repository: 'ctx/evil',
      tag: '1',
      layers: [
        [
          { name: 'ok', content: 'fine' },
          { name: '../escaped', content: 'pwned' },
        ],
      ],
    })
  ).layerDigests[0]!;
  const label = (text: string) => ({ Labels: { 'org.mobyproject.config': text } });
  await pushTarImage({ registry: r, repository: 'ctx/uid', tag: '1', layers, config: label('{"uid":"nosuch"}') });
  await pushTarImage({ registry: r, repository: 'ctx/label', tag: '1', layers, config: label('{not json') });
});

/** Writes a system file (`REGISTRY` replaced by the test registry's host) and returns build options around it. */
const setup = (name: string, yaml: string, extra: Partial<BuildOptions> = {}) =>
  suite.buildOptions(name, yaml, { applyOwnership: false, ...extra });

/** The error the build fails with, checked to be an LkvolError of `code`. */
async function failure(o: BuildOptions, code: ErrorCode): Promise<LkvolError> {
  const err = await build(o).then(
    () => assert.fail('the build succeeded'),
    (e: unknown) => e,
  );
  assert.ok(isLkvolError(err, code), `want ${code}, got ${String(err)}`);
  return err;
}

const cases: {
  name: string;
  yaml: string;
  extra?: Partial<BuildOptions>;
  code: ErrorCode;
  /** The message, with `REGISTRY` for the registry's host; a RegExp matches the rest after it. */
  want: string;
  rest?: RegExp;
  context: string[];
}[] = [
  {
    name: 'an unpack failure names the volume, then the layer and the entry',
    yaml: 'volumes:\n  - name: data\n    image: REGISTRY/ctx/evil:1\n',
    code: 'LKVOL_LAYER_UNSAFE_PATH',
    want: 'volume "data": layer EVIL: entry "../escaped": ',
    context: ['volume "data"'],
  },
  {
    name: "an unpack failure of a container's image (--rootfs) names the container",
    yaml: 'services:\n  - name: web\n    image: REGISTRY/ctx/evil:1\n',
    extra: { rootfs: true },
    code: 'LKVOL_LAYER_UNSAFE_PATH',
    want: 'services "web": layer EVIL: entry "../escaped": ',
    context: ['services "web"'],
  },
  {
    name: 'a registry failure names the volume, where the file writes its image, and the image',
    yaml: 'volumes:\n  - name: data\n    image: REGISTRY/ctx/nope:1\n',
    code: 'LKVOL_REGISTRY_NOT_FOUND',
    want: 'volume "data" (SYSTEM:3:12): pull REGISTRY/ctx/nope:1: ',
    context: ['volume "data" (SYSTEM:3:12)'],
  },
  {
    name: 'a registry failure names the container, where the file writes its image, and the image',
    yaml: 'onboot:\n  - name: init\n    image: REGISTRY/ctx/evil:1\nservices:\n  - name: web\n    image: REGISTRY/ctx/nope:1\n',
    code: 'LKVOL_REGISTRY_NOT_FOUND',
    want: 'services "web" (SYSTEM:6:12): pull REGISTRY/ctx/nope:1: ',
    context: ['services "web" (SYSTEM:6:12)'],
  },
  {
    // NB: the entries share one resolve and so one error; naming each would stack three names on it.
    name: 'an image several entries use is named with the first of them only',
    yaml: 'volumes:\n  - name: data\n    image: REGISTRY/ctx/nope:1\nonboot:\n  - name: a\n    image: REGISTRY/ctx/nope:1\nservices:\n  - name: b\n    image: REGISTRY/ctx/nope:1\n',
    code: 'LKVOL_REGISTRY_NOT_FOUND',
    want: 'onboot "a" (SYSTEM:6:12): pull REGISTRY/ctx/nope:1: ',
    rest: /^(?!.*(volume "data"|services "b"))/s,
    context: ['onboot "a" (SYSTEM:6:12)'],
  },
  {
    name: "an error in a container's spec names the container and its image",
    yaml: 'services:\n  - name: web\n    image: REGISTRY/ctx/uid:1\n',
    code: 'LKVOL_CONFIG_INVALID',
    want: 'container "web" (REGISTRY/ctx/uid:1): uid: cannot find id "nosuch"',
    context: ['container "web" (REGISTRY/ctx/uid:1)'],
  },
  {
    name: 'a broken image label names the container that brought the image in, then the image',
    yaml: 'services:\n  - name: web\n    image: REGISTRY/ctx/label:1\n',
    code: 'LKVOL_CONFIG_INVALID',
    want: 'services "web" (SYSTEM:3:12): image REGISTRY/ctx/label:1: label org.mobyproject.config: is not JSON',
    context: ['services "web" (SYSTEM:3:12)', 'image REGISTRY/ctx/label:1'],
  },
];

for (const c of cases) {
  test(c.name, async () => {
    const o = await setup(c.name.replace(/\W+/g, '-'), c.yaml, c.extra);
    const fill = (s: string) =>
      s.replaceAll('REGISTRY', suite.registry.host).replaceAll('SYSTEM', o.files[0]!).replaceAll('EVIL', evilLayer);
    const err = await failure(o, c.code);
    assert.ok(err.message.startsWith(fill(c.want)), `${err.message}\ndoes not start with\n${fill(c.want)}`);
    if (c.rest !== undefined) assert.match(err.message.slice(fill(c.want).length), c.rest);
    assert.deepEqual(err.context, c.context.map(fill));
  });
}
