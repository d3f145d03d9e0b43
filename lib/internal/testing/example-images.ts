// Test and example helper: pushes the images described by examples/images/*/image.json to a registry.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { layerFromDir } from './dir-layer.js';
import { pushImage, type PushedImage } from './push.js';

interface ImageSpec {
  repository: string;
  tag: string;
  /** Layer directories beside image.json, bottom first. */
  layers: string[];
  /** The `config` part of the image config (Entrypoint, Cmd, Env, WorkingDir, Labels). */
  config: Record<string, unknown>;
}

/** Pushes every example image to `registry` (`127.0.0.1:PORT`); returns `repository:tag` → pushed image. */
export async function pushExampleImages(registry: string, imagesDir: string): Promise<Map<string, PushedImage>> {
  const pushed = new Map<string, PushedImage>();
  for (const name of (await readdir(imagesDir)).sort()) {
    const dir = join(imagesDir, name);
    const spec = JSON.parse(await readFile(join(dir, 'image.json'), 'utf8')) as ImageSpec;
    const layers = [];
    for (const l of spec.layers) layers.push(await layerFromDir(join(dir, l)));
    const image = await pushImage({
      registry,
      repository: spec.repository,
      tag: spec.tag,
      layers,
      format: 'oci',
      config: { config: spec.config },
    });
    pushed.set(`${spec.repository}:${spec.tag}`, image);
  }
  return pushed;
}
