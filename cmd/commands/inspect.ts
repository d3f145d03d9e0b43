// `lkvol inspect IMAGE`: flags → InspectOptions → inspectImage() → text or JSON on stdout.
import { LkvolError, inspectImage, type InspectResult } from '../../lib/index.js';
import { parseFlags } from '../args.js';
import { registryFlags, registryFlagsUsage, registryOptions } from '../registry-flags.js';
import type { Command } from '../io.js';
import { createWarningSink } from '../render/progress.js';

const usage = `usage: lkvol inspect [options] IMAGE

Print what IMAGE names: its digest and media type, the platforms of an index, and for the chosen
platform the manifest, its layers (digest, size, media type) and a summary of the image config.
IMAGE is a registry reference, or a local image: oci-layout:DIR[:REF], docker-archive:FILE[:REF].

options:
      --platform OS/ARCH[/V]  platform to pick from an index (default: linux/<host arch>)
      --json                  print the same as one JSON object
${registryFlagsUsage}
      --debug                 show error causes and stacks
  -h, --help                  show this help`;

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'print the digest, platforms, layers and config of an image',
  usage,
  async run(args, io) {
    const { values, positionals } = parseFlags('inspect', args, {
      ...registryFlags,
      json: { type: 'boolean' },
    });
    if (positionals.length !== 1)
      throw new LkvolError('LKVOL_USAGE', `inspect: want exactly one IMAGE, got ${positionals.length}`, {
        hint: 'run "lkvol inspect docker.io/library/alpine:3.21"',
      });
    const result = await inspectImage({
      ...registryOptions(values, io),
      image: positionals[0]!,
      onEvent: createWarningSink(io.stderr, values.json === true),
    });
    io.stdout.write(
      values.json === true ? JSON.stringify({ ok: true, image: result }, null, 2) + '\n' : renderInspect(result),
    );
    return 0;
  },
};

/** The text form: one `key  value` line per field, layers as a table. */
export function renderInspect(r: InspectResult): string {
  const json = (v: unknown) => (v === null ? '-' : JSON.stringify(v));
  const c = r.config;
  const rows: [string, string][] = [
    ['reference', r.reference],
    ['digest', r.digest],
    ['mediaType', r.mediaType],
    ...(r.platforms === null ? [] : [['platforms', r.platforms.join(', ')] as [string, string]]),
    ['platform', r.platform],
    ['manifest', `${r.manifest.digest} (${r.manifest.mediaType}, ${r.manifest.size} bytes)`],
    ['config', `${c.digest} (${c.size} bytes)`],
    ['os/arch', [c.os ?? '?', c.architecture ?? '?', ...(c.variant === null ? [] : [c.variant])].join('/')],
    ['User', c.user ?? '-'],
    ['Entrypoint', json(c.entrypoint)],
    ['Cmd', json(c.cmd)],
    ['WorkingDir', c.workingDir ?? '-'],
    ...list('Env', c.env ?? []),
    ...list(
      'Labels',
      Object.entries(c.labels).map(([k, v]) => `${k}=${v}`),
    ),
  ];
  const lines = rows.map(([k, v]) => `${k.padEnd(11)} ${v}`);
  lines.push(`layers      ${r.layers.length}`);
  for (const l of r.layers) lines.push(`  ${l.digest}  ${String(l.size).padStart(10)}  ${l.mediaType}`);
  return lines.join('\n') + '\n';
}

function list(key: string, values: string[]): [string, string][] {
  if (values.length === 0) return [[key, '-']];
  return values.map((v, i) => [i === 0 ? key : '', v]);
}
