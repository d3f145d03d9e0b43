// LinuxKit spells some OCI fields in lower case (`blockio`, `uidmappings`); lkvol accepts both and keeps one.
import type { ContainerFields, MountEntry } from './schema.js';
import type { DocPath } from './doc-path.js';

/** Problems when both spellings of a field are set in one place. */
export function checkSpellings(entry: ContainerFields): { path: DocPath; message: string }[] {
  const problems: { path: DocPath; message: string }[] = [];
  const both = (path: DocPath, a: string, b: string): void => {
    problems.push({
      path,
      message: `set ${JSON.stringify(a)} or ${JSON.stringify(b)}, not both (they are the same field)`,
    });
  };
  if (entry.resources?.blockIO !== undefined && entry.resources.blockio !== undefined)
    both(['resources', 'blockio'], 'blockIO', 'blockio');
  const mountLists: [DocPath, MountEntry[] | undefined][] = [
    [['mounts'], entry.mounts],
    [['runtime', 'mounts'], entry.runtime?.mounts],
  ];
  for (const [base, mounts] of mountLists) {
    (mounts ?? []).forEach((m, i) => {
      if (m.uidMappings !== undefined && m.uidmappings !== undefined)
        both([...base, i, 'uidmappings'], 'uidMappings', 'uidmappings');
      if (m.gidMappings !== undefined && m.gidmappings !== undefined)
        both([...base, i, 'gidmappings'], 'gidMappings', 'gidmappings');
    });
  }
  return problems;
}

/**
 * A copy of `fields` with LinuxKit's lower-case spellings renamed to the OCI ones: `resources.blockio` →
 * `blockIO`, mount `uidmappings`/`gidmappings` → `uidMappings`/`gidMappings`. The loader applies it to every
 * container entry; apply it to an image label's fields too. Where both are set, the OCI spelling wins.
 */
export function normalizeImageConfig<T extends ContainerFields>(fields: T): T {
  const out: T = { ...fields };
  if (fields.resources?.blockio !== undefined) {
    const { blockio, ...rest } = fields.resources;
    out.resources = { ...rest, blockIO: rest.blockIO ?? blockio };
  }
  if (fields.mounts !== undefined) out.mounts = fields.mounts.map(normalizeMount);
  if (fields.runtime?.mounts !== undefined)
    out.runtime = { ...fields.runtime, mounts: fields.runtime.mounts.map(normalizeMount) };
  return out;
}

function normalizeMount(m: MountEntry): MountEntry {
  if (m.uidmappings === undefined && m.gidmappings === undefined) return m;
  const { uidmappings, gidmappings, ...rest } = m;
  const out: MountEntry = { ...rest };
  const uid = rest.uidMappings ?? uidmappings;
  const gid = rest.gidMappings ?? gidmappings;
  if (uid !== undefined) out.uidMappings = uid;
  if (gid !== undefined) out.gidMappings = gid;
  return out;
}
