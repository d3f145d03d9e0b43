// Golden files: each testdata/spec/<case>/input.json renders to want-config.json and want-runtime.json.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { containerSchema, containerFieldsSchema } from '../config/schema.js';
import { testdataPath } from '../internal/testing/testdata.js';
import { stableJson } from '../internal/stable-json.js';
import { emitRuntimeSpec, parseImageLabel, resolveContainerConfig } from './index.js';
import type { ImageConfigInput } from './index.js';

const root = testdataPath('spec');
const update = process.env['UPDATE_GOLDEN'] === '1';

interface GoldenInput {
  imageConfig: ImageConfigInput & { Labels?: Record<string, string> };
  /** The org.mobyproject.config label as an object; it is put into Labels as JSON and read back. */
  label?: unknown;
  yaml: unknown;
  bundlePath: string;
  idMap?: Record<string, number>;
}

/** Runs the whole pipeline the build uses: label → precedence → emit → serialize. */
function render(input: GoldenInput): { config: string; runtime: string } {
  const image = containerSchema.parse(input.yaml);
  const labels = { ...input.imageConfig.Labels };
  if (input.label !== undefined)
    labels['org.mobyproject.config'] = JSON.stringify(containerFieldsSchema.parse(input.label));
  const label = parseImageLabel(labels, { image: image.image });
  const merged = resolveContainerConfig({ yaml: image, label });
  const idMap = new Map(Object.entries(input.idMap ?? {}));
  const { spec, runtime } = emitRuntimeSpec({
    imageConfig: { ...input.imageConfig, Labels: labels },
    merged,
    idMap,
    bundlePath: input.bundlePath,
  });
  return { config: stableJson(spec), runtime: stableJson(runtime) };
}

const cases = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test('golden cases exist', () => assert.ok(cases.length >= 6, `found ${cases.length} cases in ${root}`));

for (const name of cases) {
  test(`golden ${name}`, () => {
    const dir = join(root, name);
    const input = JSON.parse(readFileSync(join(dir, 'input.json'), 'utf8')) as GoldenInput;
    const got = render(input);
    const again = render(input);
    assert.deepEqual(again, got, 'same input gives the same bytes');
    for (const [file, text] of [
      ['want-config.json', got.config],
      ['want-runtime.json', got.runtime],
    ] as const) {
      if (update) writeFileSync(join(dir, file), text);
      else
        assert.equal(
          text,
          readFileSync(join(dir, file), 'utf8'),
          `${name}/${file} (rerun with UPDATE_GOLDEN=1 after reviewing)`,
        );
    }
  });
}
