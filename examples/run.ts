// `make example`: start a registry on 127.0.0.1:5391, push the example images, build examples/web.yml
// into out/example with the real CLI, print the tree, and stop the registry.
import { execFileSync } from 'node:child_process';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { pushExampleImages } from '../lib/internal/testing/example-images.js';
import { startRegistry } from '../lib/internal/testing/registry.js';
import { repoRoot } from '../lib/internal/testing/testdata.js';

const port = 5391;
const root = repoRoot();
const out = join(root, 'out', 'example');

async function main(): Promise<void> {
  const registry = await startRegistry({ port });
  try {
    const pushed = await pushExampleImages(registry.host, join(root, 'examples', 'images'));
    console.log(`registry ${registry.url}: pushed ${[...pushed.keys()].join(', ')}`);
    const started = process.hrtime.bigint();
    execFileSync(process.execPath, [join(root, 'dist', 'cmd', 'lkvol.js'), 'build', '--progress', 'plain', '--cache', join(root, 'out', 'cache'), '-o', out, join(root, 'examples', 'web.yml')], { stdio: 'inherit' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`\nbuilt ${relative(root, out)} in ${ms.toFixed(0)} ms:\n`);
    for (const line of await listTree(out, '')) console.log(line);
    const web = JSON.parse(await readFile(join(out, 'containers', 'services', 'web', 'config.json'), 'utf8')) as { mounts: { destination: string; source: string; options?: string[] }[] };
    console.log('\nvolume mounts of services/web:');
    for (const m of web.mounts.filter((x) => x.source.startsWith('/containers/volumes/'))) console.log(`  ${m.destination} <- ${m.source} (${(m.options ?? []).join(',')})`);
  } finally {
    await registry.stop();
  }
}

/** One line per entry: mode, size, path (symlinks with their target). */
async function listTree(dir: string, rel: string): Promise<string[]> {
  const lines: string[] = [];
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const st = await lstat(join(dir, path));
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    lines.push(`${st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : '-'} ${mode} ${String(st.isDirectory() ? '' : st.size).padStart(6)}  ${path}${st.isDirectory() ? '/' : ''}`);
    if (st.isDirectory()) lines.push(...(await listTree(dir, path)));
  }
  return lines;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
