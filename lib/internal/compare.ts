// Byte order of strings: how Go compares them, and the order of every sorted list lkvol writes.

/** Orders strings by their UTF-8 bytes, as Go compares strings. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
