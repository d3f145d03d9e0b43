// `lkvol lock FILE...`: flags → LockOptions → lock() → lkvol.lock beside the first file.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { LkvolError, lock } from '../../lib/index.js';
import { parseFlags, requireFiles } from '../args.js';
import { registryFlags, registryFlagsUsage, registryOptions } from '../registry-flags.js';
import type { Command } from '../io.js';
import { createWarningSink } from '../render/progress.js';

const usage = `usage: lkvol lock [options] FILE...
       lkvol lock --update [REF...] FILE...

Resolve every image reference of the system files (volumes and containers) to a digest and write
lkvol.lock beside the first FILE: sorted, one pin per line, with a header saying how to update it.
References already in lkvol.lock keep their pin; new ones are resolved, pins no file uses are dropped.
\`lkvol build\` then uses the pinned digests instead of the tags; \`build --locked\` fails unless the
lock matches the files. For a reference naming an index, the manifest picked for --platform is
recorded too. Arguments that are existing files are system files; with --update the others are
references to re-resolve (as the files write them); --update alone re-resolves every one.

options:
      --update                re-resolve every reference, or only the REFs given
      --platform OS/ARCH[/V]  platform whose manifest is recorded for an index (default: linux/<host arch>)
${registryFlagsUsage}
      --json                  print {"ok": true, "lock": PATH, "resolved": [...], "dropped": [...], "changed": BOOL}
      --debug                 show error causes and stacks
  -h, --help                  show this help`;

export const lockCommand: Command = {
  name: 'lock',
  summary: 'pin every image reference of system files to a digest in lkvol.lock',
  usage,
  async run(args, io) {
    const { values, positionals } = parseFlags('lock', args, {
      ...registryFlags,
      update: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const isFile = (p: string): boolean => existsSync(resolve(io.cwd, p)) && statSync(resolve(io.cwd, p)).isFile();
    const files = positionals.filter(isFile);
    const refs = positionals.filter((p) => !isFile(p));
    if (refs.length > 0 && values.update !== true) {
      throw new LkvolError('LKVOL_USAGE', `lock: ${refs.map((r) => JSON.stringify(r)).join(', ')}: no such file`, {
        hint: 'name existing system files; image references are only taken with --update',
      });
    }
    requireFiles('lock', files);
    const result = await lock({
      ...registryOptions(values, io),
      files,
      update: values.update === true ? (refs.length === 0 ? 'all' : refs) : undefined,
      onEvent: createWarningSink(io.stderr, values.json === true),
    });
    if (values.json === true) {
      io.stdout.write(
        JSON.stringify({
          ok: true,
          lock: result.path,
          resolved: result.resolved,
          dropped: result.dropped,
          changed: result.changed,
        }) + '\n',
      );
      return 0;
    }
    for (const r of result.resolved) io.stderr.write(`resolved ${r} → ${result.lock.images[r]!.digest}\n`);
    for (const d of result.dropped) io.stderr.write(`dropped ${d} (no file uses it)\n`);
    io.stdout.write(`${result.path}${result.changed ? '' : ' (unchanged)'}\n`);
    return 0;
  },
};
