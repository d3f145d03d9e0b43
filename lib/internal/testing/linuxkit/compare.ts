// Test helper: where a runtime spec lkvol wrote differs from the one LinuxKit writes for the same inputs.
import { isDeepStrictEqual } from 'node:util';

/**
 * One difference: a JSON path (`mounts[/dev].options`), with what LinuxKit wrote and what lkvol wrote (undefined:
 * absent).
 */
export interface SpecDifference {
  path: string;
  expected: unknown;
  got: unknown;
}

/**
 * Every leaf where `got` differs from `expected`. Objects are compared key by key; arrays of mounts
 * (objects with a `destination`) are matched by destination, so order is a difference of its own
 * (`mounts#order`) rather than a cascade; any other array is compared as a whole.
 */
export function specDifferences(expected: unknown, got: unknown, path = ''): SpecDifference[] {
  if (isMountList(expected) && isMountList(got)) return mountDifferences(expected, got, path);
  if (isObject(expected) && isObject(got)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(got)])].sort();
    return keys.flatMap((k) => specDifferences(expected[k], got[k], path === '' ? k : `${path}.${k}`));
  }
  return isDeepStrictEqual(expected, got) ? [] : [{ path, expected, got }];
}

type Mount = Record<string, unknown> & { destination: string };

function mountDifferences(expected: Mount[], got: Mount[], path: string): SpecDifference[] {
  const keyed = (list: Mount[]): Map<string, Mount> => {
    const seen = new Map<string, number>();
    return new Map(
      list.map((m) => {
        const n = seen.get(m.destination) ?? 0;
        seen.set(m.destination, n + 1);
        return [n === 0 ? m.destination : `${m.destination}#${n + 1}`, m];
      }),
    );
  };
  const e = keyed(expected);
  const g = keyed(got);
  const diffs = [...new Set([...e.keys(), ...g.keys()])].flatMap((k) =>
    specDifferences(e.get(k), g.get(k), `${path}[${k}]`),
  );
  const order = (m: Map<string, Mount>, other: Map<string, Mount>): string[] =>
    [...m.keys()].filter((k) => other.has(k));
  if (!isDeepStrictEqual(order(e, g), order(g, e)))
    diffs.push({ path: `${path}#order`, expected: order(e, g), got: order(g, e) });
  return diffs;
}

function isMountList(v: unknown): v is Mount[] {
  return Array.isArray(v) && v.length > 0 && v.every((m) => isObject(m) && typeof m['destination'] === 'string');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
