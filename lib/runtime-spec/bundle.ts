// Where a container's bundle lives in the output tree (LinuxKit moby/build/build.go outputImage).
import type { Section } from '../config/schema.js';
import { LkvolError, internalError } from '../errors.js';

/**
 * `containers/onboot/000-name`, `containers/services/name`, `containers/onshutdown/000-name`:
 * onboot and onshutdown bundles are prefixed with their zero-padded position in the merged
 * section (at least three digits, like Go's `%03d`), since init runs them in directory order.
 * The path is relative to the output root; the booted system sees it under `/`.
 *
 * @throws LkvolError `LKVOL_CONFIG_INVALID` when the name could leave its section directory
 *   (empty, `.`, `..` or containing `/`); `LKVOL_INTERNAL` for a negative or fractional index.
 */
export function bundlePath(section: Section, index: number, name: string): string {
  if (!Number.isSafeInteger(index) || index < 0)
    throw internalError(`bundle path: bad index ${index} for ${section} container ${JSON.stringify(name)}`);
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new LkvolError(
      'LKVOL_CONFIG_INVALID',
      `${section}[${index}]: container name ${JSON.stringify(name)} cannot be a directory name`,
      {
        hint: 'give the container a name without "/" that is not "." or ".."',
      },
    );
  }
  if (section === 'services') return `containers/services/${name}`;
  return `containers/${section}/${String(index).padStart(3, '0')}-${name}`;
}
