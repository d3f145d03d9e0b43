// The stand-ins the bundle uses for modules it should not load at start-up (see the Makefile's esbuild aliases).
import assert from 'node:assert/strict';
import { constants } from 'node:http2';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { repoRoot } from '../lib/internal/testing/testdata.js';

const requireHere = createRequire(import.meta.url);

test("cmd/http2-lazy.cjs: its constants are node:http2's, and every one undici's HTTP/2 client takes", async () => {
  const shim = requireHere(`${repoRoot()}/cmd/http2-lazy.cjs`) as {
    constants: Record<string, string | number>;
    connect: unknown;
  };
  for (const [name, value] of Object.entries(shim.constants))
    assert.equal(value, (constants as Record<string, unknown>)[name], name);
  const client = await readFile(requireHere.resolve('undici/lib/dispatcher/client-h2.js'), 'utf8');
  const taken = /const \{\s*constants: \{([^}]*)\}\s*\} = http2/.exec(client)?.[1];
  assert.ok(taken !== undefined, "undici's client-h2.js takes its constants as it did when the shim was written");
  assert.deepEqual(
    taken
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .sort(),
    Object.keys(shim.constants).sort(),
  );
  // Nothing else of node:http2 is used but connect, which loads the real module.
  assert.deepEqual([...new Set(client.match(/\bhttp2\.\w+/g))].sort(), ['http2.connect']);
  assert.equal(typeof shim.connect, 'function');
});
