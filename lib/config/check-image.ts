// Checks an `image:` value with the reference parser, before any network access.
import { LkvolError, type ConfigIssue } from '../errors.js';
import { parseReference } from '../ref/index.js';
import { issueAt } from './issues.js';
import type { EntrySource } from './types.js';

/** An issue at `<entry>.image` when the reference does not parse (message from LKVOL_REF_INVALID). */
export function checkImage(src: EntrySource, image: string): ConfigIssue[] {
  try {
    parseReference(image);
    return [];
  } catch (err) {
    if (!(err instanceof LkvolError)) throw err;
    return [issueAt(src, ['image'], err.message)];
  }
}
