// Test helper: the places where lkvol deliberately writes a different spec than LinuxKit, as rules that
// recognise each difference. The README's "Where lkvol differs from LinuxKit" lists the same rules.
import { isDeepStrictEqual } from 'node:util';
import type { SpecDifference } from './compare.js';

/** Which file of which bundle a difference is in. */
export interface DifferenceContext {
  /** `onboot/003-mount`, `services/getty`. */
  dir: string;
  file: 'config' | 'runtime';
}

export interface Deviation {
  id: string;
  /** Why lkvol differs, as the README says it. */
  why: string;
  matches(d: SpecDifference, ctx: DifferenceContext): boolean;
}

const mountField = /^mounts\[[^\]]+\]\.(options|source)$/;

export const deviations: readonly Deviation[] = [
  {
    id: 'rbind-once',
    why: "LinuxKit appends `rbind` to a bind's options even when they already hold it (`rshared,rbind` becomes `rshared,rbind,rbind`); lkvol adds it once (SPEC §2, fix).",
    matches: (d, ctx) =>
      ctx.file === 'config' &&
      /^mounts\[[^\]]+\]\.options$/.test(d.path) &&
      isStringList(d.expected) &&
      new Set(d.expected).size < d.expected.length &&
      isDeepStrictEqual(d.got, [...new Set(d.expected)]),
  },
  {
    id: 'volume-mount-source',
    why: "LinuxKit rewrites volume names in `binds` only, so a `mounts:` entry whose source is a volume keeps the bare name (a relative host path at boot); lkvol binds the volume's `merged/` directory, with the same default options as a bind (SPEC §1.2, fix).",
    matches: (d, ctx) => {
      if (ctx.file !== 'config' || !mountField.test(d.path)) return false;
      if (d.path.endsWith('.source'))
        return typeof d.expected === 'string' && d.got === `/containers/volumes/${d.expected}/merged`;
      return d.expected === undefined && isDeepStrictEqual(d.got, ['rw', 'rbind', 'rshared']);
    },
  },
  {
    id: 'at-scalars',
    why: 'LinuxKit runs every YAML scalar through its `@pkg:` template resolver, which turns any other value starting with `@` into the empty string (a command argument `@DEVICE@` becomes `""`); lkvol keeps values as written.',
    matches: (d) => blankedAtScalars(d.expected, d.got),
  },
];

/** The rule that explains `d`, if any. */
export function classify(d: SpecDifference, ctx: DifferenceContext): Deviation | undefined {
  return deviations.find((rule) => rule.matches(d, ctx));
}

/** `expected` is `got` with every string starting with `@` (and only those) replaced by `""`. */
function blankedAtScalars(expected: unknown, got: unknown): boolean {
  let blanked = false;
  const same = (e: unknown, g: unknown): boolean => {
    if (typeof g === 'string' && g.startsWith('@') && !g.startsWith('@pkg:') && e === '') return (blanked = true);
    if (Array.isArray(e) && Array.isArray(g)) return e.length === g.length && e.every((x, i) => same(x, g[i]));
    return isDeepStrictEqual(e, g);
  };
  return same(expected, got) && blanked;
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}
