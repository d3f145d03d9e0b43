// Dispatches `lkvol <command>`, renders failures and maps them to exit codes.
import { exitCodeFor, version } from '../lib/index.js';
import { buildCommand } from './commands/build.js';
import { inspectCommand } from './commands/inspect.js';
import { lockCommand } from './commands/lock.js';
import { validateCommand } from './commands/validate.js';
import type { Command, CommandIO } from './io.js';
import { nearest } from './args.js';
import { renderErrorJson, renderErrorText } from './render/errors.js';

const commands: readonly Command[] = [buildCommand, validateCommand, lockCommand, inspectCommand];

const usage = `usage: lkvol <command> [options] FILE...

Build image-seeded volumes and OCI runtime specs for LinuxKit-style systems.

commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

  lkvol <command> --help   options of a command
  lkvol --version          print the version

exit codes: 0 success, 1 build failure, 2 usage or invalid configuration, 130 interrupted`;

/** Runs the CLI with `args` (argv without node and script) and returns the exit code. */
export async function main(args: string[], io: CommandIO): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    io[first === undefined ? 'stderr' : 'stdout'].write(usage + '\n');
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-V') {
    io.stdout.write(`lkvol ${version}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === first);
  if (command === undefined) {
    const near = nearest(
      first,
      commands.map((c) => c.name),
    );
    io.stderr.write(
      `lkvol: unknown command ${JSON.stringify(first)}${near === undefined ? '' : `; did you mean ${near}?`} (LKVOL_USAGE)\nhint: run "lkvol --help"\n`,
    );
    return 2;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    io.stdout.write(command.usage + '\n');
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (rest.includes('--json')) io.stdout.write(renderErrorJson(err));
    else io.stderr.write(renderErrorText(err, { debug: rest.includes('--debug') }));
    return exitCodeFor(err);
  }
}
