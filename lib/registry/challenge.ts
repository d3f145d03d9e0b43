// Parses `WWW-Authenticate` headers into challenges (RFC 9110 §11.6.1), several per header allowed.

/** One authentication challenge: scheme (lowercased) and its parameters (names lowercased). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

/**
 * Parses one or more `WWW-Authenticate` values: `Bearer realm="https://auth",service="reg",scope="…"`,
 * `Basic realm="x"`, or both comma-separated. Malformed tails are ignored; never throws.
 */
export function parseWwwAuthenticate(values: string | string[] | undefined): Challenge[] {
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  return list.flatMap(parseOne);
}

function parseOne(header: string): Challenge[] {
  const out: Challenge[] = [];
  let rest = header.trim();
  let current: Challenge | undefined;
  while (rest !== '') {
    const name = token.exec(rest)?.[0];
    if (name === undefined) break;
    const after = rest.slice(name.length).trimStart();
    if (after.startsWith('=') && current !== undefined) {
      const { value, remaining } = readValue(after.slice(1).trimStart());
      current.params[name.toLowerCase()] = value;
      rest = remaining;
    } else {
      current = { scheme: name.toLowerCase(), params: {} };
      out.push(current);
      rest = after;
    }
    rest = rest.replace(/^\s*,?\s*/, '');
  }
  return out;
}

function readValue(s: string): { value: string; remaining: string } {
  if (!s.startsWith('"')) {
    const m = /^[^,\s]*/.exec(s)?.[0] ?? '';
    return { value: m, remaining: s.slice(m.length) };
  }
  let value = '';
  let i = 1;
  for (; i < s.length && s[i] !== '"'; i++) {
    if (s[i] === '\\' && i + 1 < s.length) i++;
    value += s[i];
  }
  return { value, remaining: s.slice(i + 1) };
}
