// `make example`: start a registry on 127.0.0.1:5391, push the example images, build examples/web.yml
// into out/example with the real CLI, print the tree, and stop the registry; then build
// examples/airgap.yml with --offline and an empty cache, with no registry running.
// `make example-sources` writes examples/sources/ (the local images airgap.yml reads) with skopeo instead.
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pushExampleImages } from '../lib/internal/testing/example-images.js';
import { startRegistry } from '../lib/internal/testing/registry.js';
import { repoRoot } from '../lib/internal/testing/testdata.js';

const port = 5391;
const root = repoRoot();
const out = join(root, 'out', 'example');
const airgapOut = join(root, 'out', 'example-airgap');
const lkvol = join(root, 'dist', 'cmd', 'lkvol.js');

async function main(): Promise<void> {
  const registry = await startRegistry({ port });
  try {
    const pushed = await pushExampleImages(registry.host, join(root, 'examples', 'images'));
    console.log(`registry ${registry.url}: pushed ${[...pushed.keys()].join(', ')}`);
    if (process.argv.includes('--write-sources')) return await writeSources(registry.host);
    const started = process.hrtime.bigint();
    execFileSync(
      process.execPath,
      [
        lkvol,
        'build',
        '--progress',
        'plain',
        '--cache',
        join(root, 'out', 'cache'),
        '-o',
        out,
        join(root, 'examples', 'web.yml'),
      ],
      { stdio: 'inherit' },
    );
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`\nbuilt ${relative(root, out)} in ${ms.toFixed(0)} ms:\n`);
    for (const line of await listTree(out, '')) console.log(line);
    const web = JSON.parse(await readFile(join(out, 'containers', 'services', 'web', 'config.json'), 'utf8')) as {
      mounts: { destination: string; source: string; options?: string[] }[];
    };
    console.log('\nvolume mounts of services/web:');
    for (const m of web.mounts.filter((x) => x.source.startsWith('/containers/volumes/')))
      console.log(`  ${m.destination} <- ${m.source} (${(m.options ?? []).join(',')})`);
  } finally {
    await registry.stop();
  }
  if (process.argv.includes('--write-sources')) return;
  // Air-gapped: the registry is gone; an empty cache; images only from examples/sources/.
  const cache = join(root, 'out', 'cache-airgap');
  await rm(cache, { recursive: true, force: true });
  console.log('\nno registry now: lkvol build --offline examples/airgap.yml');
  execFileSync(
    process.execPath,
    [
      lkvol,
      'build',
      '--offline',
      '--progress',
      'plain',
      '--cache',
      cache,
      '-o',
      airgapOut,
      join(root, 'examples', 'airgap.yml'),
    ],
    { stdio: 'inherit' },
  );
  console.log(`\n${relative(root, airgapOut)}/containers/volumes:`);
  for (const line of await listTree(join(airgapOut, 'containers', 'volumes'), '')) console.log(line);
}

/** Writes examples/sources/ from the pushed images: an OCI layout (skopeo copy … oci:) and a docker-archive. */
async function writeSources(registry: string): Promise<void> {
  const sources = join(root, 'examples', 'sources');
  const temp = await mkdtemp(join(tmpdir(), 'lkvol-example-sources-'));
  const policy = join(temp, 'policy.json');
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  await rm(sources, { recursive: true, force: true });
  await mkdir(sources);
  const copy = (from: string, to: string) =>
    execFileSync(
      'skopeo',
      ['copy', '--quiet', '--policy', policy, '--src-tls-verify=false', `docker://${registry}/${from}`, to],
      { stdio: 'inherit' },
    );
  copy('lkvol-example/site-assets:2025-06', `oci:${join(sources, 'layout')}:site-assets`);
  copy('lkvol-example/httpd:1.0', `oci:${join(sources, 'layout')}:httpd`);
  copy(
    'lkvol-example/seed-config:1.0',
    `docker-archive:${join(sources, 'seed-config.tar')}:lkvol-example/seed-config:1.0`,
  );
  await rm(temp, { recursive: true, force: true });
  console.log(`wrote ${relative(root, sources)}`);
}

/** One line per entry: mode, size, path (symlinks with their target). */
async function listTree(dir: string, rel: string): Promise<string[]> {
  const lines: string[] = [];
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const st = await lstat(join(dir, path));
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    lines.push(
      `${st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : '-'} ${mode} ${String(st.isDirectory() ? '' : st.size).padStart(6)}  ${path}${st.isDirectory() ? '/' : ''}`,
    );
    if (st.isDirectory()) lines.push(...(await listTree(dir, path)));
  }
  return lines;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
