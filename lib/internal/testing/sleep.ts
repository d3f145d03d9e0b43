// Test helper: a retry `sleep` that records the delays asked for and returns at once, and a seeded PRNG.

/** Records every delay; never waits, so retry tests take no wall-clock time. Honours an aborted signal. */
export function recordingSleep(): {
  delays: number[];
  sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
} {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      delays.push(ms);
    },
  };
}

/** mulberry32: a small deterministic PRNG in [0, 1) for "random" offsets that repeat on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
