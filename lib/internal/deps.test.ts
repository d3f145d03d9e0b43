// Enforces the dependency rules of STYLE.md §2 by scanning import specifiers (ggcr's depcheck).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { repoRoot } from './testing/testdata.js';

const root = repoRoot();

/** Which lib modules and packages each module may import (besides node:*); eslint.config.js reads it too. */
const allowed = (
  JSON.parse(readFileSync(join(root, 'lib', 'internal', 'module-boundaries.json'), 'utf8')) as {
    modules: Record<string, { modules: string[]; packages: string[] }>;
  }
).modules;

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return p.includes(join('internal', 'testing')) ? [] : sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

function moduleOf(libDir: string, file: string): string {
  const first = relative(libDir, file).split('/')[0] ?? '';
  return first.replace(/\.ts$/, '');
}

function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(importPattern)].map((m) => m[1] ?? m[2] ?? '');
}

const libDir = join(root, 'lib');

for (const file of sources(libDir)) {
  const mod = moduleOf(libDir, file);
  test(`deps: ${relative(root, file)}`, () => {
    const rules = allowed[mod];
    assert.ok(rules, `module ${mod} is missing from the dependency table`);
    for (const spec of imports(file)) {
      if (spec.startsWith('node:')) continue;
      if (spec.startsWith('.')) {
        const target = moduleOf(libDir, resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
        if (target === mod || rules.modules.includes('*')) continue;
        assert.ok(rules.modules.includes(target), `${mod} may not import ${target} (${spec})`);
      } else {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);
        assert.ok(rules.packages.includes(pkg), `${mod} may not import the package ${pkg}`);
      }
    }
  });
}

test('deps: cmd/ imports lib only through lib/index.js', () => {
  for (const file of sources(join(root, 'cmd'))) {
    for (const spec of imports(file)) {
      if (spec.startsWith('node:') || !spec.includes('lib/')) continue;
      assert.ok(spec.endsWith('lib/index.js'), `${relative(root, file)} imports ${spec}`);
    }
  }
});

test('deps: version.ts matches package.json', async () => {
  const { version } = await import('../version.js');
  assert.equal(version, (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
});

/** The files each product file of lib/ and cmd/ imports (relative imports, `import type` included). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...sources(libDir), ...sources(join(root, 'cmd'))]) {
    const targets = imports(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    graph.set(file, targets);
  }
  return graph;
}

/** Every strongly connected group of two or more files, or a file importing itself (Tarjan). */
function importCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file)!, index.get(next)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== file);
    if (group.length > 1 || (graph.get(file) ?? []).includes(file))
      cycles.push(group.map((f) => relative(root, f)).sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return cycles;
}

test('deps: no file imports itself through others, type-only imports included', () => {
  assert.deepEqual(importCycles(importGraph()), []);
});
