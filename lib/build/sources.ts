// What a build reads from the host besides its system files, checked before any request: provisioners and local images.
import { resolve } from 'node:path';
import type { Config } from '../config/index.js';
import type { ConfigIssue } from '../errors.js';
import { localImageProblem } from '../local/index.js';
import { formatReference } from '../ref/index.js';
import { checkProvisioners } from './provision.js';

export const sourcesHint = 'fix the path (relative to the system file) or the name, or install the provisioner';

/**
 * Every provisioner that cannot be found, every `oci-layout:`/`docker-archive:` image whose path
 * does not lead to a layout or a file, and local images written alike that lead to different paths
 * (`oci-layout:imgs` from two directories: lkvol.lock and lkvol.json name images as written, so the
 * two could not be told apart there), at their lines. Nothing is run or read.
 */
export function checkSources(config: Config, cwd: string, path: string | undefined): ConfigIssue[] {
  const uses = [...config.volumes, ...config.onboot, ...config.services, ...config.onshutdown];
  const issueAt = (use: (typeof uses)[number], message: string): ConfigIssue => ({
    ...use.positionOf(['image']),
    path: `${use.path}.image`,
    message,
  });
  const first = new Map<string, { location: string; use: (typeof uses)[number] }>();
  const images = uses.flatMap((use) => {
    const local = use.ref?.local;
    if (use.ref === undefined || local === undefined) return [];
    const location = resolve(cwd, local.location);
    const problem = localImageProblem(local, location);
    if (problem !== undefined) return [issueAt(use, problem)];
    const written = formatReference({ ...use.ref, digest: undefined });
    const seen = first.get(written);
    if (seen === undefined) first.set(written, { location, use });
    else if (seen.location !== location) {
      const at = seen.use.positionOf(['image']);
      return [
        issueAt(
          use,
          `${JSON.stringify(written)} leads to ${location}, but the same words at ${at.file}:${at.line}:${at.column} lead to ${seen.location}; lkvol.lock and lkvol.json name images as written, so write paths that differ`,
        ),
      ];
    }
    return [];
  });
  return [...checkProvisioners(config, cwd, path), ...images];
}
