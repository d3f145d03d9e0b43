// Checks an `image:` value with the reference parser, before any network access.
import { dirname } from 'node:path';
import { LkvolError, type ConfigIssue } from '../errors.js';
import { parseReference } from '../ref/index.js';
import { issueAt } from './issues.js';
import type { EntrySource } from './types.js';

/** An issue at `<entry>.image` when the reference does not parse (message from LKVOL_REF_INVALID). */
export function checkImage(src: EntrySource, image: string): ConfigIssue[] {
  // LinuxKit resolves `@pkg:DIR` by reading the package's build.yml and source tree, which lkvol does not build.
  if (image.startsWith('@pkg:')) return [issueAt(src, ['image'], `${JSON.stringify(image)} is a LinuxKit package template, which lkvol does not resolve: write the image reference \`linuxkit pkg show-tag ${image.slice('@pkg:'.length)}\` prints`)];
  try {
    parseReference(image);
    return [];
  } catch (err) {
    if (!(err instanceof LkvolError)) throw err;
    return [issueAt(src, ['image'], err.message)];
  }
}

/**
 * Local images written alike that lead to different paths (`oci-layout:imgs` in two directories):
 * lkvol.lock and lkvol.json name images as written, so the two could not be told apart there.
 */
export function checkLocalImageNames(entries: readonly (EntrySource & { entry: { image?: string | undefined } })[]): ConfigIssue[] {
  const first = new Map<string, { location: string; src: EntrySource }>();
  const issues: ConfigIssue[] = [];
  for (const src of entries) {
    const image = src.entry.image;
    if (image === undefined) continue;
    let location: string | undefined;
    try {
      location = parseReference(image, { base: dirname(src.pos.file) }).local?.location;
    } catch {
      continue; // reported by checkImage
    }
    if (location === undefined) continue;
    const seen = first.get(image);
    if (seen === undefined) first.set(image, { location, src });
    else if (seen.location !== location) {
      const at = seen.src.positionOf(['image']);
      issues.push(issueAt(src, ['image'], `${JSON.stringify(image)} leads to ${location}, but the same words at ${at.file}:${at.line}:${at.column} lead to ${seen.location}; lkvol.lock and lkvol.json name images as written, so write paths that differ`));
    }
  }
  return issues;
}
