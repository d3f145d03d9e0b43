// CLI: regenerates testdata/linuxkit from a LinuxKit checkout (see testdata/linuxkit/README.md) and prints what it
// could not account for.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateCorpus, type CorpusReport } from './generate.js';
import { parseLabelsFile } from './images-json.js';

const usage = `usage: node dist/lib/internal/testing/linuxkit/corpus.js --linuxkit DIR --out DIR [--commit HASH] [--labels FILE]
  --linuxkit DIR  a LinuxKit checkout
  --out DIR       testdata/linuxkit (systems/, builds.json, images.json and README.md are replaced)
  --commit HASH   the checkout's full commit hash (default: git rev-parse HEAD in DIR)
  --labels FILE   labels.json: { "labels": { "<package dir>": { "image", "label" } } }`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      linuxkit: { type: 'string' },
      out: { type: 'string' },
      commit: { type: 'string' },
      labels: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return void process.stdout.write(`${usage}\n`);
  if (values.linuxkit === undefined || values.out === undefined)
    throw new Error(`--linuxkit and --out are required\n${usage}`);
  const commit = values.commit ?? gitHead(values.linuxkit);
  if (!/^[0-9a-f]{40}$/.test(commit))
    throw new Error(`--commit: expected a full 40-hex commit hash, got ${JSON.stringify(commit)}`);
  const labels =
    values.labels === undefined ? undefined : parseLabelsFile(await readFile(values.labels, 'utf8'), values.labels);
  const report = await generateCorpus({ linuxkit: resolve(values.linuxkit), out: resolve(values.out), commit, labels });
  process.stdout.write(summary(report));
}

function gitHead(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch (err) {
    throw new Error(`${dir} is not a git work tree; pass --commit <full hash>`, { cause: err });
  }
}

function summary(r: CorpusReport): string {
  const refs = Object.entries(r.images.images);
  const lines = [
    `system files: ${r.systemFiles.length}; builds: ${r.builds.length} (refuse: ${r.builds.filter((b) => b.expect === 'refuse').length})`,
    `image references: ${refs.length}; with a package: ${refs.filter(([, i]) => i.package !== null).length}; digest-pinned: ${refs.filter(([ref]) => ref.includes('@')).length}`,
    ...r.unparsed.map((u) => `unparsed: ${u.script}:${u.line}: ${u.why}: ${u.text}`),
    ...r.overridden.map((o) => `expectation overridden: ${o.origin}: ${o.why}`),
    ...r.substituted.map((s) => `missing file: ${s.origin}: ${s.named} → ${s.used}`),
    ...r.invalidYaml.map((f) => `not valid YAML (builds refused): ${f}`),
    ...r.unusedSystems.map((f) => `system file no build uses: ${f}`),
    ...r.shadowedPackages.map((s) => `package shadowed: ${s.dir} also builds ${s.repository}`),
    ...r.notes.invalid.map((i) => `invalid reference: ${i.ref}: ${i.why}`),
    ...r.notes.linuxkitWithoutPackage.map((ref) => `linuxkit image without a package: ${ref}`),
    ...r.notes.locallyBuilt.map((l) => `built by a test: ${l.ref} from ${l.dockerfile}`),
    ...r.notes.labelMismatches.map((m) => `labels file: ${m.dir} says ${m.image}, the package builds ${m.repository}`),
  ];
  return `${lines.join('\n')}\n`;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`corpus: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
