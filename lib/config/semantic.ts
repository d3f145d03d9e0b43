// All semantic checks of a merged configuration, run after the schema passed and before any network access.
import type { ConfigIssue } from '../errors.js';
import { checkSection } from './check-containers.js';
import { checkVolumes } from './check-volumes.js';
import { buildIdMap, checkIds } from './ids.js';
import type { Draft } from './merge.js';
import { sections } from './schema.js';
import { volumeTable } from './volume-refs.js';

/** Every semantic problem in the merged files, unsorted. */
export function checkDraft(draft: Draft): ConfigIssue[] {
  const volumes = volumeTable(draft.volumes);
  const names = (s: keyof Draft['containers']): { name: string }[] => draft.containers[s].map((c) => ({ name: c.entry.name }));
  const ids = buildIdMap({ onboot: names('onboot'), onshutdown: names('onshutdown'), services: names('services') });
  const containers = sections.flatMap((s) => draft.containers[s]);
  return [
    ...checkVolumes(draft.volumes),
    ...sections.flatMap((s) => checkSection(draft.containers[s], volumes)),
    ...checkIds([...containers, ...draft.fileEntries], ids),
  ];
}
