// config.json `process`: args, env, cwd, user, capabilities, rlimits, noNewPrivileges, oomScoreAdj.
import { buildCapabilities } from './capabilities.js';
import { buildUser } from './user.js';
import { buildRlimits } from './rlimits.js';
import type { MergedConfig, SpecProcess } from './types.js';

/**
 * The process of a merged entry whose image config is already applied (`applyImageConfig`), as
 * LinuxKit's ConfigToOCI builds it: `command` (or the image's Entrypoint+Cmd) is the whole argv,
 * `env` is a whole replacement, cwd falls back to `/` (OCI needs one). Empty lists are left out
 * (Go omitempty); `terminal` is false and therefore left out too.
 *
 * @throws LkvolError `LKVOL_CONFIG_INVALID` from user ids, capabilities or rlimits.
 */
export function buildProcess(merged: MergedConfig, idMap: ReadonlyMap<string, number>): SpecProcess {
  const process: SpecProcess = {
    user: buildUser(merged, idMap),
    cwd: merged.cwd || '/',
    capabilities: buildCapabilities(merged),
  };
  if (merged.command !== undefined && merged.command.length > 0) process.args = [...merged.command];
  if (merged.env !== undefined && merged.env.length > 0) process.env = [...merged.env];
  const rlimits = buildRlimits(merged);
  if (rlimits.length > 0) process.rlimits = rlimits;
  if (merged.noNewPrivileges === true) process.noNewPrivileges = true;
  if (merged.oomScoreAdj !== undefined) process.oomScoreAdj = merged.oomScoreAdj;
  return process;
}
