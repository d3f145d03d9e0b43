// What a build reads from the host besides its system files, checked before any request: provisioners and local images.
import { resolve } from 'node:path';
import type { Config } from '../config/index.js';
import type { ConfigIssue } from '../errors.js';
import { localImageProblem } from '../local/index.js';
import { checkProvisioners } from './provision.js';

export const sourcesHint = 'fix the path (relative to the system file) or the name, or install the provisioner';

/**
 * Every provisioner that cannot be found and every `oci-layout:`/`docker-archive:` image whose path
 * does not lead to a layout or a file, at its line. Nothing is run or read.
 */
export function checkSources(config: Config, cwd: string, path: string | undefined): ConfigIssue[] {
  const images = [...config.volumes, ...config.onboot, ...config.services, ...config.onshutdown].flatMap((use) => {
    const local = use.ref?.local;
    const problem = local === undefined ? undefined : localImageProblem(local, resolve(cwd, local.location));
    if (problem === undefined) return [];
    return [{ ...use.positionOf(['image']), path: `${use.path}.image`, message: problem }];
  });
  return [...checkProvisioners(config, cwd, path), ...images];
}
