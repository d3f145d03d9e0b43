// `lkvol validate`: schema and reference checks of system files, no network.
import {
  checkConfigHostPaths,
  checkSources,
  ConfigError,
  sourcesHint,
  formatConfigIssue,
  loadConfig,
  loadPolicy,
  policyHint,
} from '../../lib/index.js';
import { parseFlags, requireFiles } from '../args.js';
import type { Command } from '../io.js';

const usage = `usage: lkvol validate [--json] [--policy FILE] FILE...

Check system files (schema, volume names, binds, references) without touching the network.
Exit 0 when valid, 2 with every problem listed as file:line:col otherwise. Warnings (file:line:col
and a LKVOL_WARN_* code) go to stderr and do not change the exit code.

options:
      --json           print {"ok": true, "volumes": N, "containers": N, "warnings": [...]} or the error as JSON
      --policy FILE    also check every bind of a host path against this policy (exit 2 listing each violation)
  -h, --help           show this help`;

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check system files without building',
  usage,
  async run(args, io) {
    const { values, positionals } = parseFlags('validate', args, {
      json: { type: 'boolean' },
      debug: { type: 'boolean' },
      policy: { type: 'string' },
    });
    requireFiles('validate', positionals);
    const config = await loadConfig(positionals, { signal: io.signal, cwd: io.cwd });
    const missing = checkSources(config, io.cwd, io.env['PATH']);
    if (missing.length > 0) throw new ConfigError('LKVOL_CONFIG_INVALID', missing, { hint: sourcesHint });
    if (values.policy !== undefined) {
      const violations = checkConfigHostPaths(config, await loadPolicy(values.policy, io.cwd));
      if (violations.length > 0) throw new ConfigError('LKVOL_POLICY_VIOLATION', violations, { hint: policyHint });
    }
    const containers = config.onboot.length + config.services.length + config.onshutdown.length;
    if (values.json === true) {
      io.stdout.write(
        JSON.stringify({ ok: true, volumes: config.volumes.length, containers, warnings: config.warnings }) + '\n',
      );
      return 0;
    }
    for (const w of config.warnings) io.stderr.write(`warning: ${formatConfigIssue(w)} (${w.code})\n`);
    io.stdout.write(`${positionals.join(', ')}: valid (${config.volumes.length} volumes, ${containers} containers)\n`);
    return 0;
  },
};
