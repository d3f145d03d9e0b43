// The rules the house relies on (STYLE.md sections 2, 3 and 11), checked by `make lint` (in make check and make test).
import { readFileSync } from 'node:fs';
import tseslint from 'typescript-eslint';

/** Past this many positional parameters an exported function takes an options object (STYLE.md section 3). */
const maxExportedParams = 3;

/**
 * lkvol/exported-params: exported functions (`export function f`, `export const f = (…) =>`, `export { f }`,
 * `export default`) and the public constructors and methods of exported classes take at most `max`
 * positional parameters; beyond that, an options object. TypeScript's `this` parameter does not count.
 */
const exportedParams = {
  meta: {
    type: 'suggestion',
    docs: { description: 'Exported functions take an options object past a few positional parameters' },
    schema: [{ type: 'object', properties: { max: { type: 'integer', minimum: 0 } }, additionalProperties: false }],
    messages: {
      tooMany:
        '{{name}} has {{count}} positional parameters; an exported function takes at most {{max}}, then an options object.',
    },
  },
  create(context) {
    const max = context.options[0]?.max ?? maxExportedParams;
    const isFunction = (node) =>
      node !== null &&
      node !== undefined &&
      ['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'TSDeclareFunction'].includes(node.type);
    const positional = (fn) => fn.params.filter((p) => !(p.type === 'Identifier' && p.name === 'this')).length;
    const check = (fn, name) => {
      const count = positional(fn);
      if (count > max) context.report({ node: fn, messageId: 'tooMany', data: { name, count, max } });
    };
    const checkClass = (cls) => {
      for (const member of cls.body.body) {
        if (member.type !== 'MethodDefinition' && member.type !== 'TSAbstractMethodDefinition') continue;
        if (member.key.type === 'PrivateIdentifier' || member.accessibility === 'private') continue;
        const name =
          member.kind === 'constructor' ? `${cls.id?.name ?? 'class'} constructor` : `method ${member.key.name}`;
        check(member.value, name);
      }
    };
    const checkDeclaration = (decl) => {
      if (isFunction(decl)) check(decl, `function ${decl.id?.name ?? 'default'}`);
      else if (decl.type === 'ClassDeclaration') checkClass(decl);
      else if (decl.type === 'VariableDeclaration')
        for (const d of decl.declarations) if (isFunction(d.init)) check(d.init, `function ${d.id.name}`);
    };
    return {
      ExportNamedDeclaration(node) {
        if (node.declaration) return checkDeclaration(node.declaration);
        if (node.source) return;
        // `export { f }`: the local declaration of each name.
        const scope = context.sourceCode.getScope(node);
        for (const spec of node.specifiers) {
          const variable = scope.set.get(spec.local.name);
          for (const def of variable?.defs ?? [])
            checkDeclaration(def.node.type === 'VariableDeclarator' ? def.parent : def.node);
        }
      },
      ExportDefaultDeclaration(node) {
        checkDeclaration(node.declaration);
      },
    };
  },
};

/** node:test's registration functions: they return a promise the runner itself awaits. */
const nodeTestCalls = {
  from: 'package',
  package: 'node:test',
  name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach', 'skip', 'todo', 'only'],
};

/** STYLE.md section 2 for the editor: the table lib/internal/deps.test.ts enforces (it also refuses import cycles). */
const boundaries = JSON.parse(
  readFileSync(new URL('./lib/internal/module-boundaries.json', import.meta.url), 'utf8'),
).modules;

/** Test code, which may import anything (lib/internal/testing/ holds its helpers). */
const testFiles = ['**/*.test.ts', 'lib/internal/testing/**'];
const topLevel = new Set(['errors', 'events', 'version', 'index']);
const packageJson = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const allPackages = Object.keys({ ...packageJson.dependencies, ...packageJson.devDependencies });
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const anyOf = (names) => `(?:${names.map(escape).join('|')})`;

/** One config object per module: its file glob and the imports it may not make. */
const boundaryConfigs = Object.entries(boundaries).map(([name, may]) => {
  const modules = may.modules.includes('*')
    ? []
    : Object.keys(boundaries).filter((m) => m !== name && !may.modules.includes(m));
  const packages = allPackages.filter((p) => !may.packages.includes(p));
  const up = topLevel.has(name) ? '\\./' : '\\.\\./';
  const allowed = `${may.modules.join(', ') || 'no lib module'}; packages: ${may.packages.join(', ') || 'none'}`;
  const patterns = [
    { regex: `^${up}internal/testing/`, message: 'product code does not import test helpers (lib/internal/testing/).' },
    { regex: `^${anyOf(packages)}(?:/|$)`, message: `lib/${name} may import ${allowed} (STYLE.md section 2).` },
  ];
  if (modules.length > 0)
    patterns.unshift({
      regex: `^${up}${anyOf(modules)}(?:\\.js|/)`,
      message: `lib/${name} may import ${allowed} (STYLE.md section 2).`,
    });
  return {
    files: [topLevel.has(name) ? `lib/${name}.ts` : `lib/${name}/**/*.ts`],
    ignores: testFiles,
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
});

export default tseslint.config(
  { ignores: ['dist/', 'out/', '.build/', 'node_modules/', 'testdata/', 'eslint.config.js'] },
  {
    files: ['cmd/**/*.ts', 'lib/**/*.ts', 'examples/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin, lkvol: { rules: { 'exported-params': exportedParams } } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [nodeTestCalls] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Comments count; URLs, strings, template literals and regular expressions may run past.
      'max-len': [
        'error',
        { code: 120, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true },
      ],
      'max-params': ['error', 4],
      'lkvol/exported-params': ['error', { max: maxExportedParams }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z']",
          message:
            "import * as z from 'zod': esbuild then bundles only the zod lkvol uses (zod's `z` object holds all of it, locales too: 0.6 MB and ~8 ms of every start).",
        },
      ],
    },
  },
  {
    // The library reports through events and errors; only cmd/ talks to the terminal and reads the process.
    files: ['lib/**/*.ts'],
    ignores: testFiles,
    rules: {
      'no-console': 'error',
      'no-restricted-globals': [
        'error',
        {
          name: 'process',
          message:
            "lib/internal/process.ts is lib's only door to the process (pid, cwd, ids, signals); anything else (env, argv, streams, exit) comes from cmd/ as an option.",
        },
      ],
    },
  },
  { files: ['lib/internal/process.ts'], rules: { 'no-restricted-globals': 'off' } },
  ...boundaryConfigs,
  {
    files: ['cmd/**/*.ts'],
    ignores: testFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '(?:^|/)lib/(?!index\\.js$)', message: 'cmd/ imports lib only through lib/index.js.' }] },
      ],
    },
  },
);
