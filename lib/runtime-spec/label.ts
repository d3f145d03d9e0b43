// Reads and validates an image's `org.mobyproject.config` label (LinuxKit's NewImage).
import { LkvolError } from '../errors.js';
import { containerFieldsSchema, type ContainerFields } from '../config/schema.js';
import { normalizeImageConfig } from '../config/spellings.js';
import { formatPath } from '../config/doc-path.js';

/** The label LinuxKit reads container defaults from. */
export const mobyConfigLabel = 'org.mobyproject.config';

/**
 * Parses the `org.mobyproject.config` label of an image config's `Labels`.
 *
 * Returns undefined when the label is absent or empty (LinuxKit ignores an empty label). The label
 * must be a JSON object (what `linuxkit pkg build` writes); LinuxKit also accepts YAML, which lkvol
 * refuses with a clear message because only lib/config may parse YAML. The object is validated
 * like a container entry, and `name`/`image` are refused as in LinuxKit's NewImage.
 *
 * @throws LkvolError `LKVOL_CONFIG_INVALID` `image <ref>: label org.mobyproject.config: …`
 */
export function parseImageLabel(
  labels: Readonly<Record<string, string>> | null | undefined,
  opts: { image: string },
): ContainerFields | undefined {
  return readImageLabel(labels, opts)?.fields;
}

/**
 * `parseImageLabel`, with the label also as written (`raw`: LinuxKit's lower-case spellings not yet
 * folded), for checks that depend on the spelling (config `entryWarnings`).
 */
export function readImageLabel(
  labels: Readonly<Record<string, string>> | null | undefined,
  opts: { image: string },
): { fields: ContainerFields; raw: ContainerFields } | undefined {
  const text = labels?.[mobyConfigLabel];
  if (text === undefined || text.trim() === '') return undefined;
  const fail = (what: string, extra: { cause?: unknown; hint?: string } = {}): LkvolError =>
    new LkvolError('LKVOL_CONFIG_INVALID', `label ${mobyConfigLabel}: ${what}`, {
      cause: extra.cause,
      hint: extra.hint ?? 'the image label is broken; rebuild the image or set the fields in the system file instead',
    }).addContext(`image ${opts.image}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw fail(`is not JSON (lkvol reads the JSON form that linuxkit pkg build writes): ${(err as Error).message}`, {
      cause: err,
      hint: 'rebuild the image with the label written as a JSON object',
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail(
      `must be a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
    );
  }
  for (const key of ['name', 'image']) {
    if (key in value) throw fail(`${key} cannot be set in the label`);
  }
  const parsed = containerFieldsSchema.safeParse(value, { jitless: true });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) =>
      i.path.length === 0
        ? i.message
        : `${formatPath(i.path.map((p) => (typeof p === 'number' ? p : String(p))))}: ${i.message}`,
    );
    throw fail(issues.join('; '), { cause: parsed.error });
  }
  // LinuxKit's lower-case spellings (`blockio`, `uidmappings`) are folded into the OCI ones, as for YAML entries.
  return { fields: normalizeImageConfig(parsed.data), raw: parsed.data };
}
