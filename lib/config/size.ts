// Parses a volume `sizeLimit` (`512Mi`, `2G`, `1048576`) into bytes. Pure.

const binary: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
const decimal: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

/** The result of parsing a size: bytes, or why it is not a size. */
export type SizeParse = { ok: true; bytes: number } | { ok: false; reason: string };

/**
 * Parses a size: a plain number is bytes; `Ki Mi Gi Ti Pi` are binary (1024-based) and `K M G T P`
 * decimal (1000-based), either case, with an optional trailing `B`. The result must be a whole number of
 * bytes, greater than zero and at most 2^53-1.
 */
export function parseSize(input: string | number): SizeParse {
  const text = String(input).trim();
  const m = /^(\d+(?:\.\d+)?)(?:([KMGTPkmgtp])(i?))?[bB]?$/.exec(text);
  if (m === null)
    return {
      ok: false,
      reason: `invalid size ${JSON.stringify(text)}: want a number of bytes or a number with Ki, Mi, Gi, Ti (1024-based) or K, M, G, T (1000-based), e.g. 512Mi`,
    };
  const [, digits = '', unit, i] = m;
  const scale = unit === undefined ? 1 : ((i === 'i' ? binary : decimal)[unit.toLowerCase()] ?? 1);
  // Exact arithmetic: 1.1K is 1100 bytes, not 1100.0000000000002.
  const [whole = '', fraction = ''] = digits.split('.');
  const scaled = BigInt(whole + fraction) * BigInt(scale);
  const divisor = 10n ** BigInt(fraction.length);
  if (scaled % divisor !== 0n)
    return { ok: false, reason: `size ${JSON.stringify(text)} is not a whole number of bytes` };
  const exact = scaled / divisor;
  if (exact <= 0n) return { ok: false, reason: `size ${JSON.stringify(text)} must be greater than zero` };
  if (exact > BigInt(Number.MAX_SAFE_INTEGER))
    return {
      ok: false,
      reason: `size ${JSON.stringify(text)} is too large (at most ${Number.MAX_SAFE_INTEGER} bytes)`,
    };
  const bytes = Number(exact);
  return { ok: true, bytes };
}
