// Words for schema validation messages: what a zod schema expects and what a YAML value is.

/** The parts of a zod 4 schema's internal definition these descriptions read. */
interface SchemaDef {
  type: string;
  element?: SchemaLike;
  innerType?: SchemaLike;
  options?: readonly SchemaLike[];
  valueType?: SchemaLike;
  entries?: Record<string, unknown>;
  shape?: Record<string, unknown>;
  format?: string;
  checks?: readonly SchemaLike[];
}

/** Anything carrying a zod 4 definition (a schema or an issue's `inst`). */
export interface SchemaLike {
  _zod: { def: unknown };
}

function defOf(schema: SchemaLike): SchemaDef {
  return schema._zod.def as SchemaDef;
}

function isSchemaLike(x: unknown): x is SchemaLike {
  return typeof x === 'object' && x !== null && '_zod' in x;
}

/** "a list of strings", "an integer", "a string or an integer", … */
export function describeSchema(schema: SchemaLike): string {
  return describe(schema, false);
}

function describe(schema: SchemaLike, plural: boolean): string {
  const def = defOf(schema);
  const word = (one: string, many: string): string => (plural ? many : one);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
      return def.innerType === undefined ? word('a value', 'values') : describe(def.innerType, plural);
    case 'string':
      return word('a string', 'strings');
    case 'number':
      return isInteger(def) ? word('an integer', 'integers') : word('a number', 'numbers');
    case 'boolean':
      return word('true or false', 'booleans');
    case 'array':
      return def.element === undefined
        ? word('a list', 'lists')
        : word(`a list of ${describe(def.element, true)}`, `lists of ${describe(def.element, true)}`);
    case 'object':
      return word('a mapping', 'mappings');
    case 'record':
      return def.valueType === undefined
        ? word('a mapping', 'mappings')
        : word(`a mapping of ${describe(def.valueType, true)}`, `mappings of ${describe(def.valueType, true)}`);
    case 'union':
      return (def.options ?? []).map((o) => describe(o, plural)).join(' or ');
    case 'enum':
      return `one of ${Object.keys(def.entries ?? {}).join(', ')}`;
    default:
      return word('a value', 'values');
  }
}

/** `z.number().int()` carries its format on the schema or, once more checks are chained, in a check. */
function isInteger(def: SchemaDef): boolean {
  const formats = [def.format, ...(def.checks ?? []).map((c) => defOf(c).format)];
  return formats.some((f) => f !== undefined && f.includes('int'));
}

/** The keys a strict object schema allows, in schema order. */
export function allowedKeys(schema: unknown): string[] {
  if (!isSchemaLike(schema)) return [];
  // name and image first: they are what every container entry starts with.
  const keys = Object.keys(defOf(schema).shape ?? {});
  const first = ['name', 'image'].filter((k) => keys.includes(k));
  return [...first, ...keys.filter((k) => !first.includes(k))];
}

/** "a string", "a list", "a mapping", "null", "a boolean", "an integer", "a number". */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'boolean':
      return 'a boolean';
    case 'number':
      return Number.isInteger(value) ? 'an integer' : `a number (${value})`;
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}
