// All semantic checks of a merged configuration, run after the schema passed and before any network access.
import type { ConfigIssue } from '../errors.js';
import { checkSection } from './check-containers.js';
import { checkVolumes } from './check-volumes.js';
import { buildIdMap, checkIds, repeatedNames } from './ids.js';
import { issueAt } from './issues.js';
import type { Draft } from './merge.js';
import { sections } from './schema.js';
import type { ConfigWarning, EntrySource } from './types.js';
import { volumeTable } from './volume-refs.js';
import { entryWarnings, idWarnings, type FieldWarning } from './warnings.js';

/** Every semantic problem in the merged files (unsorted), and every warning. */
export function checkDraft(draft: Draft): { issues: ConfigIssue[]; warnings: ConfigWarning[] } {
  const volumes = volumeTable(draft.volumes);
  const named = (s: keyof Draft['containers']) => draft.containers[s].map((c) => ({ ...c, name: c.entry.name }));
  const bySection = { onboot: named('onboot'), onshutdown: named('onshutdown'), services: named('services') };
  const ids = buildIdMap(bySection);
  const repeated = repeatedNames(bySection);
  const containers = sections.flatMap((s) => draft.containers[s]);
  const issues = [
    ...checkVolumes(draft.volumes),
    ...sections.flatMap((s) => checkSection(draft.containers[s], volumes)),
    ...checkIds([...containers, ...draft.fileEntries], ids),
  ];
  const warnings = [
    ...containers.flatMap((c) =>
      [...entryWarnings(c.entry), ...idWarnings(c.entry, repeated)].map((w) => warningAt(c, w)),
    ),
    ...draft.fileEntries.flatMap((f) => idWarnings(f.entry, repeated).map((w) => warningAt(f, w))),
  ];
  return { issues, warnings };
}

/** A warning at a path inside an entry, located like an issue. */
export function warningAt(src: EntrySource, w: FieldWarning): ConfigWarning {
  return { ...issueAt(src, w.path, w.message), code: w.code };
}
