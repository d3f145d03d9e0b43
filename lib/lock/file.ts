// lkvol.lock: every image reference of the system files pinned to a digest, as a stable, diff-friendly text.
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import * as z from 'zod';
import { parseDigest, type Digest } from '../digest/index.js';
import { LkvolError } from '../errors.js';
import { compareBytes } from '../internal/compare.js';

/** The file name; it lives beside the first system file. */
export const lockFileName = 'lkvol.lock';

/**
 * One pinned reference: what its tag named when locked (an index or a manifest), and per platform the manifest chosen
 * from an index.
 */
export interface LockEntry {
  digest: Digest;
  platforms?: Record<string, Digest>;
}

/** The lock: references (normalised, `docker.io/library/alpine:3.20`) → entries. */
export interface Lock {
  images: Record<string, LockEntry>;
}

const digestText = z.string().regex(/^sha(256:[0-9a-f]{64}|512:[0-9a-f]{128})$/, 'a digest (sha256:<64 hex>)');
const lockSchema = z.strictObject({
  lockVersion: z.literal(1),
  images: z.record(
    z.string(),
    z.strictObject({ digest: digestText, platforms: z.record(z.string(), digestText).optional() }),
  ),
});

/** Where the lock of these system files is: beside the first one. */
export function lockPathFor(files: readonly string[], cwd: string): string {
  return join(dirname(resolve(cwd, files[0] ?? '.')), lockFileName);
}

/**
 * Reads a lock's text.
 * @throws LKVOL_LOCK naming the file when it is not a lock lkvol wrote (not YAML, another shape, another version).
 */
export function parseLock(text: string, file: string): Lock {
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    throw notALock(file, `not valid YAML: ${(err as Error).message.split('\n')[0] ?? ''}`, err);
  }
  const parsed = lockSchema.safeParse(data, { jitless: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw notALock(file, `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'not a lock'}`, parsed.error);
  }
  const images: Record<string, LockEntry> = {};
  for (const [ref, e] of Object.entries(parsed.data.images)) {
    images[ref] = {
      digest: parseDigest(e.digest),
      ...(e.platforms === undefined
        ? {}
        : { platforms: Object.fromEntries(Object.entries(e.platforms).map(([p, d]) => [p, parseDigest(d)])) }),
    };
  }
  return { images };
}

function notALock(file: string, why: string, cause: unknown): LkvolError {
  return new LkvolError('LKVOL_LOCK', `${file}: not an lkvol lock file: ${why}`, {
    cause,
    hint: `lkvol writes ${lockFileName} with \`lkvol lock\`; move this file away, then run it`,
  });
}

/**
 * The lock's text: a header saying what it is and how to update it, then every reference in byte
 * order, one key per line, so a changed pin is a one-line diff. `files` are the system files as named
 * on the command line. The same lock always gives the same bytes.
 */
export function formatLock(lock: Lock, files: readonly string[]): string {
  const q = (s: string): string => JSON.stringify(s);
  const lines = [
    `# ${lockFileName}: the image references of ${files.join(', ')} pinned to digests.`,
    '# `lkvol build` uses these digests instead of resolving the tags; `lkvol build --locked` fails when',
    '# this file is missing or does not match the system files. Written by `lkvol lock FILE...`;',
    '# re-resolve every tag with `lkvol lock --update FILE...`, or some with `lkvol lock --update REF... FILE...`.',
    '# Do not edit by hand.',
    'lockVersion: 1',
  ];
  const refs = Object.keys(lock.images).sort(compareBytes);
  if (refs.length === 0) lines.push('images: {}');
  else lines.push('images:');
  for (const ref of refs) {
    const e = lock.images[ref]!;
    lines.push(`  ${q(ref)}:`, `    digest: ${q(e.digest)}`);
    const platforms = Object.keys(e.platforms ?? {}).sort(compareBytes);
    if (platforms.length > 0)
      lines.push('    platforms:', ...platforms.map((p) => `      ${q(p)}: ${q(e.platforms![p]!)}`));
  }
  return `${lines.join('\n')}\n`;
}
