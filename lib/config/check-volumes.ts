// Semantic checks of the top-level `volumes:` entries (SPEC §1.1): names, image, format, platforms, size.
import type { ConfigIssue } from '../errors.js';
import { issueAt, where } from './issues.js';
import type { DraftVolume } from './merge.js';
import { checkImage } from './check-image.js';
import { parseSize } from './size.js';
import { volumeNamePattern } from './volume-refs.js';

const platformPattern = /^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*(?:\/[a-z0-9][a-z0-9._-]*)?$/;

/** Every problem with the merged volumes; names must be unique across all files (fix: LinuxKit checks one file). */
export function checkVolumes(volumes: readonly DraftVolume[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const firstByName = new Map<string, DraftVolume>();
  for (const v of volumes) {
    const name = v.entry.name;
    const nameProblem = checkVolumeName(name);
    if (nameProblem !== undefined) issues.push(issueAt(v, ['name'], nameProblem));
    const first = firstByName.get(name);
    if (first !== undefined && nameProblem === undefined) {
      issues.push(
        issueAt(
          v,
          ['name'],
          `duplicate volume name ${JSON.stringify(name)} (first declared at ${where(first, ['name'])})`,
        ),
      );
    } else if (first === undefined) firstByName.set(name, v);
    issues.push(...checkVolumeFields(v));
  }
  return issues;
}

/** Why a volume name is unacceptable, or undefined. */
function checkVolumeName(name: string): string | undefined {
  if (name === '') return 'volume name must not be empty';
  if (!volumeNamePattern.test(name))
    return `invalid volume name ${JSON.stringify(name)}: use only a-z, 0-9, "_" and "-"`;
  return undefined;
}

function checkVolumeFields(v: DraftVolume): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { image, format, platforms, sizeLimit } = v.entry;
  if (image !== undefined) issues.push(...checkImage(v, image));
  if (platforms !== undefined && format !== 'oci') {
    issues.push(
      issueAt(
        v,
        ['platforms'],
        `platforms applies only to format: oci (this volume's format is ${format ?? 'filesystem'}, which uses the build platform)`,
      ),
    );
  }
  (platforms ?? []).forEach((p, i) => {
    if (!platformPattern.test(p))
      issues.push(
        issueAt(
          v,
          ['platforms', i],
          `invalid platform ${JSON.stringify(p)}: want os/arch[/variant], e.g. linux/arm64/v8`,
        ),
      );
  });
  if (sizeLimit !== undefined) {
    const size = parseSize(sizeLimit);
    if (!size.ok) issues.push(issueAt(v, ['sizeLimit'], size.reason));
  }
  const p = v.entry.provisioner;
  if (p !== undefined) {
    if (image !== undefined)
      issues.push(issueAt(v, ['provisioner'], 'a volume is seeded from an image or a provisioner, not both'));
    if (format === 'oci')
      issues.push(issueAt(v, ['format'], 'format: oci needs an image; a provisioner fills a filesystem volume'));
    if ((p.name === undefined) === (p.command === undefined))
      issues.push(
        issueAt(
          v,
          ['provisioner'],
          'give the provisioner a name (runs lkvol-provisioner-<name> from PATH) or a command, one of the two',
        ),
      );
    if (p.name !== undefined && !provisionerNamePattern.test(p.name))
      issues.push(
        issueAt(
          v,
          ['provisioner', 'name'],
          `invalid provisioner name ${JSON.stringify(p.name)}: use a-z, 0-9, ".", "_" and "-"`,
        ),
      );
    if (p.timeout !== undefined && parseTimeout(p.timeout) === undefined)
      issues.push(
        issueAt(
          v,
          ['provisioner', 'timeout'],
          `invalid timeout ${JSON.stringify(p.timeout)}: want a number with ms, s or m, e.g. 60s`,
        ),
      );
  }
  return issues;
}

const provisionerNamePattern = /^[a-z0-9][a-z0-9._-]*$/;

/** A provisioner timeout (`500ms`, `60s`, `5m`) in milliseconds; undefined when it is not one. */
export function parseTimeout(text: string): number | undefined {
  const m = /^(\d+)(ms|s|m)$/.exec(text.trim());
  if (m === null || Number(m[1]) === 0) return undefined;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}
