// process.user: uid, gid and additionalGids, names resolved through LinuxKit's id map (IDNumeric).
import { invalidConfig } from './fail.js';
import type { MergedConfig, SpecProcess } from './types.js';

const maxId = 0xffff_ffff;

/**
 * The user of the process. Only label and YAML count (LinuxKit ignores the image's `User` and
 * never reads /etc/passwd); unset means 0. A number is used as is; `""` and `root` are 0; any other
 * string is looked up in `idMap` (LinuxKit gives each onboot, onshutdown and service container an
 * id from 100 up, keyed by name). lkvol also accepts a decimal string (`"1000"`), which LinuxKit
 * refuses, after the map lookup.
 *
 * @throws LkvolError `LKVOL_CONFIG_INVALID` `cannot find id "x"` for an unknown name, or an id
 *   outside 0..2^32-1.
 */
export function buildUser(merged: MergedConfig, idMap: ReadonlyMap<string, number>): SpecProcess['user'] {
  const resolve = (field: string, v: number | string | undefined): number =>
    resolveId({ merged, idMap, field, value: v });
  const user: SpecProcess['user'] = { uid: resolve('uid', merged.uid), gid: resolve('gid', merged.gid) };
  const extra = (merged.additionalGids ?? []).map((g, i) => resolve(`additionalGids[${i}]`, g));
  if (extra.length > 0) user.additionalGids = extra;
  return user;
}

function resolveId(o: {
  merged: MergedConfig;
  idMap: ReadonlyMap<string, number>;
  field: string;
  value: number | string | undefined;
}): number {
  const { merged, idMap, field, value } = o;
  if (value === undefined || value === '' || value === 'root') return 0;
  let id: number | undefined;
  if (typeof value === 'number') id = value;
  else id = idMap.get(value) ?? (/^\d+$/.test(value) ? Number(value) : undefined);
  if (id === undefined) {
    throw invalidConfig(merged, `${field}: cannot find id ${JSON.stringify(value)}`, {
      hint: 'use a number, "root", or the name of a container in onboot, onshutdown or services',
    });
  }
  if (!Number.isSafeInteger(id) || id < 0 || id > maxId)
    throw invalidConfig(merged, `${field}: id ${JSON.stringify(value)} is outside 0..${maxId}`);
  return id;
}
