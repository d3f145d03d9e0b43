// Test helper: the README.md of testdata/linuxkit, rendered from what the generator found.
import type { CorpusReport } from './generate.js';

/** Why LinuxKit refuses each build its tests expect to fail, by build id (read from the files at the pinned commit). */
const refusalReasons: Readonly<Record<string, string>> = {
  'examples/static-ip':
    'not valid YAML: the comment `#      domain test.local` at column 1 ends the block scalar of `contents: |`, and the indented lines after it cannot be parsed',
  'test/cases/000_build/070_volumes/002_rw_on_ro':
    'binds the volume `vola`, declared `readonly: true`, read-write into the container `test` (`vola:/vola`)',
  'test/cases/000_build/091_validate_linuxkit_yaml':
    'unknown top-level key `unknownField` (LinuxKit decodes system files with known fields only)',
};

export const regenerateCommand =
  'make linuxkit-corpus LINUXKIT=<LinuxKit checkout> LINUXKIT_COMMIT=<its full commit hash>';

/** Markdown; depends only on the report, so regenerating from the same checkout gives the same bytes. */
export function renderReadme(r: CorpusReport): string {
  const refused = r.builds.filter((b) => b.expect === 'refuse');
  const refs = Object.entries(r.images.images);
  const digestPinned = refs.filter(([ref]) => ref.includes('@sha256:'));
  const lines = [
    '# LinuxKit compatibility corpus',
    '',
    `Every system file of [LinuxKit](https://github.com/linuxkit/linuxkit) at commit \`${r.images.linuxkitCommit}\``,
    'that a build uses (each `examples/*.yml` on its own, and every `linuxkit build` of a `test/cases/**/test.sh`),',
    'copied verbatim, with the builds and the images they need. lkvol must build all of them offline against a test',
    'registry, and refuse exactly the builds LinuxKit refuses. Generated; do not edit by hand.',
    '',
    '## Files',
    '',
    `- \`systems/\`: ${r.systemFiles.length} system files, at their paths in LinuxKit.`,
    `- \`builds.json\`: ${r.builds.length} builds, sorted by id: \`id\` (\`examples/<name>\`, or the test directory, with \`#N\` when its`,
    '  test.sh builds several times), `files` (relative to `systems/`, in merge order), `expect` (`build` or `refuse`),',
    '  `origin` (the example, or `test.sh:LINE`).',
    `- \`images.json\`: the LinuxKit commit and ${refs.length} image references exactly as written in the systems, each with`,
    '  `package` (the LinuxKit directory whose build.yml names the repository, or null), `usedAs` (container, volume,',
    '  init, kernel) and `config` (the image config to push: the final stage of the package Dockerfile as BuildKit sets',
    '  it, including the default PATH and WorkingDir `/` of `FROM scratch`; for other images a plausible plain config).',
    '  With `--labels`, `Labels["org.mobyproject.config"]` is the exact label `linuxkit pkg build` writes.',
    '- `labels.json`: the `org.mobyproject.config` label of every package whose build.yml has a `config:` section,',
    "  as `linuxkit pkg build` writes it; made by `oracle/` (a Go program that calls LinuxKit's own code).",
    "- `expected/`: per build, the `config.json` and `runtime.json` of every container as LinuxKit's `ConfigToOCI` and",
    "  `ImageBundle` write them for these files and images (or LinuxKit's error); made by `oracle/`.",
    '- `warnings.txt`: the warnings lkvol gives for the corpus, reviewed; `UPDATE_GOLDEN=1` on',
    '  `lib/build/linuxkit-compat.integration.test.js` rewrites it.',
    '',
    '## Regenerate',
    '',
    '```sh',
    regenerateCommand,
    '```',
    '',
    'It builds the oracle (Go 1.23; see `oracle/README.md`), writes `labels.json`, runs the generator',
    '(`dist/lib/internal/testing/linuxkit/corpus.js`, which replaces `systems/`, `builds.json`, `images.json` and this',
    'README), then writes `expected/`. The test suite needs none of these tools: everything it reads is committed.',
    '',
    '## Builds LinuxKit refuses',
    '',
    ...refused.map(
      (b) => `- \`${b.id}\` (${b.origin}): ${refusalReasons[b.id] ?? "LinuxKit's test expects this build to fail"}`,
    ),
    '',
    '## Notes',
    '',
    ...r.overridden.map((o) => `- \`${o.origin}\` is expected to build here: it ${o.why}.`),
    ...r.substituted.map(
      (s) => `- \`${s.origin}\` names \`${s.named}\`, which does not exist; the corpus uses \`${s.used}\` beside it.`,
    ),
    ...r.notes.locallyBuilt.map(
      (l) =>
        `- \`${l.ref}\` is built by the test itself (\`docker build\`); its config comes from \`${l.dockerfile}\`.`,
    ),
    ...(r.notes.linuxkitWithoutPackage.length === 0
      ? []
      : [
          `- No build.yml names these (kernels are built from \`kernel/\` by make); package null: ${r.notes.linuxkitWithoutPackage.map((ref) => `\`${ref}\``).join(', ')}.`,
        ]),
    `- ${digestPinned.length} references are pinned by digest; a pushed image cannot reproduce that digest.`,
    ...(r.unusedSystems.length === 0
      ? []
      : [`- System files no build uses, left out: ${r.unusedSystems.map((f) => `\`${f}\``).join(', ')}.`]),
    '',
  ];
  return `${lines.join('\n')}`;
}
