// Generated images kept between bench runs: <cache>/images/<key>/ holds the layer blobs and an
// image.json written last, so a run killed while generating is regenerated, not half-used.
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayerFile } from './layer-file.js';

/** An image whose layer blobs are files in `dir`. */
export interface CachedImage {
  /** Names the generator and its version; a new version regenerates. */
  key: string;
  dir: string;
  layers: LayerFile[];
}

/** Returns the cached image `key`, generating it with `generate(dir)` when it is missing or incomplete. */
export async function cachedImage(
  cacheDir: string,
  key: string,
  generate: (dir: string) => Promise<LayerFile[]>,
): Promise<CachedImage & { generated: boolean }> {
  const dir = join(cacheDir, 'images', key);
  const found = await readCached(dir);
  if (found !== undefined) return { key, dir, layers: found, generated: false };
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const layers = await generate(dir);
  const temp = join(dir, `image.json.partial-${process.pid}`);
  await writeFile(temp, JSON.stringify({ key, layers }, null, 2) + '\n');
  await rename(temp, join(dir, 'image.json'));
  return { key, dir, layers, generated: true };
}

/**
 * The layers recorded in `dir/image.json`, if it exists and every blob file has its recorded size (the registry checks
 * digests on push).
 */
async function readCached(dir: string): Promise<LayerFile[] | undefined> {
  let layers: LayerFile[];
  try {
    layers = (JSON.parse(await readFile(join(dir, 'image.json'), 'utf8')) as { layers: LayerFile[] }).layers;
  } catch {
    return undefined;
  }
  for (const layer of layers) {
    const size = await stat(join(dir, layer.file)).then(
      (s) => s.size,
      () => -1,
    );
    if (size !== layer.size) return undefined;
  }
  return layers;
}
