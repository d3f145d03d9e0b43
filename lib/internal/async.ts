// Async helpers: a concurrency limiter, async calls memoised per key so concurrent callers share one, and turns of the
// event loop for long synchronous walks.
import { LkvolError } from '../errors.js';

/** Returns `run(task)` that queues `task` until fewer than `n` tasks are running. */
export function createLimiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  const next = () => {
    if (active >= n) return;
    const start = queue.shift();
    if (start !== undefined) start();
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolvePromise, reject) => {
      queue.push(() => {
        active++;
        task()
          .then(resolvePromise, reject)
          .finally(() => {
            active--;
            next();
          });
      });
      next();
    });
}

/** A memoised async call per key. */
export interface Once<T> {
  /** The promise of the first call for `key`, made by `task` when there is none. */
  (key: string, task: () => Promise<T>): Promise<T>;
  /** Makes the next call for `key` run its task again. */
  forget(key: string): void;
  /** The promises of every key held now. */
  held(): Promise<T>[];
  /** Forgets every key. */
  clear(): void;
}

/**
 * Memoises an async function by key, so concurrent callers share one in-flight promise. With
 * `retryFailures`, a call that rejects is forgotten, so the next caller tries again (a transport whose
 * credentials could not be read); otherwise its rejection is what every later caller gets.
 */
export function createOnce<T>(options: { retryFailures?: boolean } = {}): Once<T> {
  const held = new Map<string, Promise<T>>();
  const once = (key: string, task: () => Promise<T>): Promise<T> => {
    let p = held.get(key);
    if (p === undefined) {
      p = task();
      held.set(key, p);
      if (options.retryFailures === true) {
        const made = p;
        made.catch(() => {
          if (held.get(key) === made) held.delete(key);
        });
      }
    }
    return p;
  };
  return Object.assign(once, {
    forget: (key: string) => void held.delete(key),
    held: () => [...held.values()],
    clear: () => held.clear(),
  });
}

/** Entries a long synchronous walk handles between two turns of the event loop: Ctrl-C must not wait for it all. */
export const entriesPerTurn = 2000;

/** Lets the event loop run (a Ctrl-C handler among the rest), then throws LKVOL_CANCELLED if `signal` aborted. */
export async function yieldTurn(signal: AbortSignal | undefined, what: string): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  throwIfCancelled(signal, what);
}

/** @throws LKVOL_CANCELLED naming `what` when `signal` has aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw new LkvolError('LKVOL_CANCELLED', `${what}: cancelled`);
}
