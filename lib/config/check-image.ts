// Checks an `image:` value with the reference parser, before any network access.
import { LkvolError, type ConfigIssue } from '../errors.js';
import { parseReference } from '../ref/index.js';
import { issueAt } from './issues.js';
import type { EntrySource } from './types.js';

/** An issue at `<entry>.image` when the reference does not parse (message from LKVOL_REF_INVALID). */
export function checkImage(src: EntrySource, image: string): ConfigIssue[] {
  // LinuxKit resolves `@pkg:DIR` by reading the package's build.yml and source tree, which lkvol does not build.
  if (image.startsWith('@pkg:'))
    return [
      issueAt(
        src,
        ['image'],
        `${JSON.stringify(image)} is a LinuxKit package template, which lkvol does not resolve: write the image reference \`linuxkit pkg show-tag ${image.slice('@pkg:'.length)}\` prints`,
      ),
    ];
  try {
    parseReference(image);
    return [];
  } catch (err) {
    if (!(err instanceof LkvolError)) throw err;
    return [issueAt(src, ['image'], err.message)];
  }
}
