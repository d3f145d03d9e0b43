// Semantic checks of onboot, services and onshutdown entries (SPEC §1.2).
import type { ConfigIssue } from '../errors.js';
import { checkImage } from './check-image.js';
import { checkFields } from './container-fields.js';
import { issueAt, where } from './issues.js';
import type { DraftContainer } from './merge.js';
import { checkSpellings } from './spellings.js';
import { checkContainerRefs, type VolumeTable } from './volume-refs.js';

/** Every problem with the containers of one merged section; service names are unique across files. */
export function checkSection(containers: readonly DraftContainer[], volumes: VolumeTable): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const firstByName = new Map<string, DraftContainer>();
  for (const c of containers) {
    issues.push(...checkName(c, firstByName));
    issues.push(...checkImage(c, c.entry.image));
    issues.push(...[...checkFields(c.entry), ...checkSpellings(c.entry)].map((p) => issueAt(c, p.path, p.message)));
    issues.push(...checkContainerRefs(c, volumes));
  }
  return issues;
}

function checkName(c: DraftContainer, firstByName: Map<string, DraftContainer>): ConfigIssue[] {
  const name = c.entry.name;
  // The name becomes a directory under containers/<section>/: it must stay one path component (fix).
  if (name.includes('/') || name === '.' || name === '..' || name.includes('\0')) {
    return [
      issueAt(
        c,
        ['name'],
        `invalid container name ${JSON.stringify(name)}: it names a directory, so it must not contain "/" or be "." or ".."`,
      ),
    ];
  }
  // Only services must be unique (each runs as a container named after it); onboot and onshutdown
  // bundles carry their position (`003-mount`, `006-mount`), so LinuxKit lets their names repeat.
  if (c.section !== 'services') return [];
  const first = firstByName.get(name);
  if (first === undefined) {
    firstByName.set(name, c);
    return [];
  }
  return [
    issueAt(c, ['name'], `duplicate name ${JSON.stringify(name)} in ${c.section} (first at ${where(first, ['name'])})`),
  ];
}
