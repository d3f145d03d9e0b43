// LinuxKit's id map: container names usable as uid/gid values, and the check that every named id resolves.
import type { ConfigIssue } from '../errors.js';
import { issueAt } from './issues.js';
import type { Section } from './schema.js';
import type { EntrySource } from './types.js';
import type { RepeatedName } from './warnings.js';

/** The first id LinuxKit hands out to a container name. */
export const firstContainerId = 100;

/** Id-map order: onboot, then onshutdown, then services (not the order of the SPEC's sections list). */
const idOrder: readonly Section[] = ['onboot', 'onshutdown', 'services'];

/**
 * LinuxKit's id allocation: every onboot, then onshutdown, then services container name gets an id from 100
 * upward in that order (a later container with the same name overwrites the earlier id, as in LinuxKit);
 * `""` and `root` are 0 and cannot be overridden.
 */
export function buildIdMap(config: Readonly<Record<Section, readonly { name: string }[]>>): Map<string, number> {
  const ids = new Map<string, number>();
  let next = firstContainerId;
  for (const section of idOrder) for (const c of config[section]) ids.set(c.name, next++);
  ids.set('', 0);
  ids.set('root', 0);
  return ids;
}

/**
 * Names used by more than one container (across all sections; onboot and onshutdown names may repeat), with their uses.
 */
export function repeatedNames(
  config: Readonly<Record<Section, readonly (EntrySource & { name: string })[]>>,
): Map<string, RepeatedName> {
  const ids = buildIdMap(config);
  const uses = new Map<string, RepeatedName['uses']>();
  for (const section of idOrder) {
    for (const c of config[section]) {
      const list = uses.get(c.name) ?? [];
      list.push({ where: `${c.path} at ${c.pos.file}:${c.pos.line}:${c.pos.column}`, section });
      uses.set(c.name, list);
    }
  }
  const out = new Map<string, RepeatedName>();
  for (const [name, list] of uses)
    if (list.length > 1 && name !== 'root' && name !== '') out.set(name, { uses: list, id: ids.get(name)! });
  return out;
}

type IdValue = string | number;

/** An entry that may set uid, gid or additionalGids. */
interface IdEntry extends EntrySource {
  entry: { uid?: IdValue | undefined; gid?: IdValue | undefined; additionalGids?: IdValue[] | undefined };
}

/** Issues for uid/gid/additionalGids strings that are not `""`, `root` or a container name. */
export function checkIds(entries: readonly IdEntry[], ids: ReadonlyMap<string, number>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const check = (src: IdEntry, path: (string | number)[], value: IdValue | undefined): void => {
    if (typeof value !== 'string' || ids.has(value)) return;
    const hint = /^\d+$/.test(value)
      ? 'write numeric ids without quotes'
      : 'use a number, "root", "" or the name of a container';
    issues.push(issueAt(src, path, `cannot find id ${JSON.stringify(value)} (${hint})`));
  };
  for (const e of entries) {
    check(e, ['uid'], e.entry.uid);
    check(e, ['gid'], e.entry.gid);
    (e.entry.additionalGids ?? []).forEach((g, i) => check(e, ['additionalGids', i], g));
  }
  return issues;
}
