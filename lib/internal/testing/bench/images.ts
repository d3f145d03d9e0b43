// The bench's images, generated once (kept in the bench cache) and pushed to the loopback registry
// at every run: Debian minbase, the 500 MB synthetic image, and a tiny one to swap in.
import { pushTarImage } from '../images.js';
import { debianImageKey, generateDebianImage } from './debian-image.js';
import { cachedImage, type CachedImage } from './image-cache.js';
import { log, mib } from './log.js';
import { hostArchitecture, pushCachedImage } from './push-image.js';
import { generateSyntheticImage, syntheticImageKey } from './synthetic-image.js';

/** An image in the bench registry. */
export interface BenchImage {
  name: string;
  /** `127.0.0.1:PORT/bench/<name>:1`. */
  ref: string;
  /** One line for the report: layers and sizes. */
  summary: string;
  /** Its layer blobs' URLs in the registry, in order. */
  blobs: string[];
}

/** The three images, pushed to `registry`. */
export interface BenchImages {
  debian: BenchImage;
  synthetic: BenchImage;
  tiny: BenchImage;
}

/** Generates what the bench cache lacks, then pushes every image. */
export async function prepareImages(o: {
  registry: string;
  cacheDir: string;
  mirror: string | undefined;
}): Promise<BenchImages> {
  log('Debian minbase image');
  const debian = await cachedImage(o.cacheDir, debianImageKey(hostArchitecture()), (dir) =>
    generateDebianImage(dir, { mirror: o.mirror }),
  );
  if (!debian.generated) log(`  cached: ${debian.dir}`);
  log('synthetic image (4 layers, ~30 k entries, ~480 MB)');
  const synthetic = await cachedImage(o.cacheDir, syntheticImageKey, generateSyntheticImage);
  if (!synthetic.generated) log(`  cached: ${synthetic.dir}`);
  log(`pushing to ${o.registry}`);
  // Only built by lkvol (the pipe is timed on the other two): its blobs are not listed.
  const tiny = { name: 'tiny', ref: `${o.registry}/bench/tiny:1`, summary: 'tiny (1 layer, 4 entries)', blobs: [] };
  await pushTarImage({
    registry: o.registry,
    repository: 'bench/tiny',
    tag: '1',
    architecture: hostArchitecture(),
    layers: [tinyEntries],
  });
  return {
    debian: await push(o.registry, 'debian', debian),
    synthetic: await push(o.registry, 'synthetic', synthetic),
    tiny,
  };
}

async function push(registry: string, name: string, image: CachedImage): Promise<BenchImage> {
  await pushCachedImage({ registry, repository: `bench/${name}`, tag: '1' }, image);
  const gzip = image.layers.reduce((sum, l) => sum + l.size, 0);
  const tar = image.layers.reduce((sum, l) => sum + l.tarSize, 0);
  const summary = `${name} (${image.layers.length} layer${image.layers.length === 1 ? '' : 's'}, ${mib(gzip)} gzip, ${mib(tar)} tar)`;
  log(`  pushed ${summary}`);
  const blobs = image.layers.map((l) => `http://${registry}/v2/bench/${name}/blobs/${l.digest}`);
  return { name, ref: `${registry}/bench/${name}:1`, summary, blobs };
}

/** The small image swapped in for Debian in the two-volume system. */
const tinyEntries = [
  { name: 'etc', type: 'dir' as const },
  { name: 'etc/motd', content: 'tiny bench image\n' },
  { name: 'hello', content: '#!/bin/sh\necho hello\n', mode: 0o755 },
  { name: 'hi', type: 'symlink' as const, linkname: 'hello' },
];
