// Deterministic JSON for every JSON file lkvol writes (config.json, runtime.json, lkvol.json): sorted keys,
// 2-space indent, exact big integers.
import { compareBytes } from './compare.js';
import { internalError } from '../errors.js';

/**
 * Serializes a JSON-shaped value (a runtime spec, a build record) to bytes-stable text: every object's keys sorted by
 * their UTF-8 bytes (as Go sorts map keys; the runtime spec gives keys no order), arrays kept in
 * order, 2-space indent, a final newline. `bigint` values are written as exact integers, so
 * RLIMIT `unlimited` is 18446744073709551615. Keys whose value is `undefined` are left out, as
 * JSON.stringify does. The same value always gives the same string.
 *
 * @throws LkvolError `LKVOL_INTERNAL` for values JSON cannot hold (NaN, Infinity, functions, symbols,
 *   class instances such as Map or Date).
 */
export function stableJson(value: unknown): string {
  return `${render(value, '')}\n`;
}

function render(value: unknown, indent: string): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString(10);
    case 'number':
      if (!Number.isFinite(value)) throw internalError(`stable JSON: ${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return renderArray(value, indent);
      if (!isPlainObject(value))
        throw internalError(`stable JSON: ${Object.prototype.toString.call(value)} is not a JSON object`);
      return renderObject(value as Record<string, unknown>, indent);
    default:
      throw internalError(`stable JSON: a ${typeof value} is not a JSON value`);
  }
}

function renderArray(items: readonly unknown[], indent: string): string {
  if (items.length === 0) return '[]';
  const inner = `${indent}  `;
  return `[\n${items.map((v) => inner + render(v === undefined ? null : v, inner)).join(',\n')}\n${indent}]`;
}

function renderObject(obj: Record<string, unknown>, indent: string): string {
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort(compareBytes);
  if (keys.length === 0) return '{}';
  const inner = `${indent}  `;
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${render(obj[k], inner)}`).join(',\n')}\n${indent}}`;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
