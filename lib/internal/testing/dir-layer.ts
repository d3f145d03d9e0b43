// Test and example helper: a reproducible gzip layer from a directory of files in the repository.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { gzipLayer, sha256, type LayerInput } from './push.js';

/** Fixed mtime for every entry: git does not keep times, and the same checkout must give the same digests. */
const layerTime = new Date('2025-06-01T00:00:00Z');

/**
 * Tars `dir` in byte order of path: directories 0755, files 0755 when executable in the checkout
 * else 0644, owner 0:0, fixed mtime. Empty files named `.wh.*` stay what they are: whiteouts.
 */
export async function layerFromDir(dir: string): Promise<LayerInput> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const rel of await walk(dir, '')) {
    const st = await stat(join(dir, rel));
    const header = { name: rel, mtime: layerTime, uid: 0, gid: 0 };
    if (st.isDirectory()) p.entry({ ...header, type: 'directory', mode: 0o755 });
    else p.entry({ ...header, type: 'file', mode: st.mode & 0o111 ? 0o755 : 0o644 }, await readFile(join(dir, rel)));
  }
  p.finalize();
  await done;
  const tar = Buffer.concat(chunks);
  return { data: gzipLayer(tar), diffId: sha256(tar) };
}

async function walk(root: string, rel: string): Promise<string[]> {
  const names = (await readdir(join(root, rel))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out: string[] = [];
  for (const name of names) {
    const path = rel === '' ? name : `${rel}/${name}`;
    out.push(path);
    if ((await stat(join(root, path))).isDirectory()) out.push(...(await walk(root, path)));
  }
  return out;
}
