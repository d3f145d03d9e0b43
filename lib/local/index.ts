// Images read from local files instead of a registry: OCI image layouts and `docker save` archives.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { LkvolError } from '../errors.js';
import type { LocalImage } from '../ref/index.js';
import { openDockerArchive } from './docker-archive.js';
import { openOciLayout } from './oci-layout.js';
import type { LocalImageSource, LocalSourceOptions } from './source.js';

export { localMismatchHint, type LocalImageSource, type LocalSourceOptions, type TempFile } from './source.js';
export { refNameAnnotation } from './oci-layout.js';

/**
 * A source for `image`, whose path resolves to `location` (absolute). Nothing is read until it is asked for something.
 */
export function openLocalImage(image: LocalImage, location: string, o: LocalSourceOptions): LocalImageSource {
  return image.transport === 'oci-layout' ? openOciLayout(image, location) : openDockerArchive(image, location, o);
}

/**
 * Why `image` at `location` cannot be read, checked without reading it (for `validate` and before a
 * build makes any request); undefined when it looks usable.
 */
export function localImageProblem(image: LocalImage, location: string): string | undefined {
  const kind = (path: string) => {
    try {
      const s = statSync(path);
      return s.isDirectory() ? 'directory' : s.isFile() ? 'file' : 'other';
    } catch {
      return 'missing';
    }
  };
  const at = `${image.transport}:${image.path}: ${location}`;
  const k = kind(location);
  if (k === 'missing') return `${at} does not exist`;
  if (image.transport === 'docker-archive')
    return k === 'file' ? undefined : `${at} is not a file (a docker save archive)`;
  if (k !== 'directory') return `${at} is not a directory (an OCI image layout)`;
  return kind(join(location, 'oci-layout')) === 'file'
    ? undefined
    : `${at} is not an OCI image layout (it has no oci-layout file)`;
}

/**
 * An error of resolving a local image as the registry path words it: a malformed index or manifest
 * is the layout's or archive's fault (LKVOL_LOCAL_IMAGE), not a registry's protocol error.
 */
export function localResolveError(err: unknown): unknown {
  if (!(err instanceof LkvolError) || err.code !== 'LKVOL_REGISTRY_PROTOCOL') return err;
  return new LkvolError('LKVOL_LOCAL_IMAGE', err.message.replace(/^pull /, ''), {
    cause: err,
    hint: 'the layout or archive holds a malformed index or manifest: write it again (skopeo copy, docker save)',
  });
}
