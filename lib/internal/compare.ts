// Comparing strings: byte order (how Go compares them, the order of every sorted list lkvol writes) and edit distance.

/**
 * Orders strings by their UTF-8 bytes, as Go compares strings. UTF-16 code units order the same way up to U+D7FF, so
 * only strings that first differ in a surrogate or above are encoded: sorting a directory's names
 * then allocates nothing.
 */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x < 0xd800 && y < 0xd800 ? x - y : compareEncoded(a, b);
  }
  // A prefix sorts first: even one ending in a lone surrogate, whose U+FFFD (ef bf bd) is below any 4-byte sequence.
  return a.length - b.length;
}

function compareEncoded(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Levenshtein distance: the edits that turn `a` into `b` (for "did you mean"). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}
