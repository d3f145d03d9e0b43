// Test helper: the image references a LinuxKit system file names, and how each is used.
import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';

/**
 * How a system file uses an image: a container of onboot/onshutdown/services, a volume, an init image or the kernel.
 */
export type ImageUse = 'container' | 'volume' | 'init' | 'kernel';

/** One `image:` (or init entry) as written. */
export interface ImageMention {
  ref: string;
  usedAs: ImageUse;
}

const containerSections = ['onboot', 'onshutdown', 'services'] as const;

/**
 * Every image reference of a system file, in document order. Works on a document with syntax errors
 * too (whatever the YAML parser recovered), so an invalid file still contributes its images.
 */
export function findImageMentions(text: string): { mentions: ImageMention[]; syntaxErrors: string[] } {
  const doc = parseDocument(text, { uniqueKeys: false });
  const mentions: ImageMention[] = [];
  const add = (node: unknown, usedAs: ImageUse): void => {
    if (isScalar(node) && typeof node.value === 'string' && node.value !== '')
      mentions.push({ ref: node.value, usedAs });
  };
  const root = doc.contents;
  if (!isMap(root)) return { mentions, syntaxErrors: doc.errors.map((e) => e.message) };
  add(pathIn(root, ['kernel', 'image']), 'kernel');
  for (const item of itemsOf(root.get('init', true))) add(item, 'init');
  for (const section of containerSections)
    for (const item of itemsOf(root.get(section, true))) add(pathIn(item, ['image']), 'container');
  for (const item of itemsOf(root.get('volumes', true))) add(pathIn(item, ['image']), 'volume');
  return { mentions, syntaxErrors: doc.errors.map((e) => e.message) };
}

/** Whether `text` parses as YAML without errors. */
export function isValidYaml(text: string): boolean {
  return parseDocument(text).errors.length === 0;
}

function itemsOf(node: unknown): unknown[] {
  return isSeq(node) ? node.items : [];
}

function pathIn(node: unknown, path: readonly string[]): Node | undefined {
  let at: unknown = node;
  for (const key of path) at = isMap(at) ? at.get(key, true) : undefined;
  return at as Node | undefined;
}

const systemKeys = ['kernel', 'init', 'onboot', 'onshutdown', 'services', 'volumes'];

/** Whether a YAML file has a top-level key only system files have (package build.yml and tool configs do not). */
export function looksLikeSystem(text: string): boolean {
  const root = parseDocument(text, { uniqueKeys: false }).contents;
  return isMap(root) && systemKeys.some((k) => root.has(k));
}
