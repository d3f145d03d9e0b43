// A tiny concurrency limiter: run at most N async tasks at once.

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

/** A memoised async call per key; `forget(key)` makes the next call run the task again. */
export type Once<T> = ((key: string, task: () => Promise<T>) => Promise<T>) & { forget(key: string): void };

/** Memoises an async function by key, so concurrent callers share one in-flight promise. */
export function createOnce<T>(): Once<T> {
  const inflight = new Map<string, Promise<T>>();
  const once = (key: string, task: () => Promise<T>): Promise<T> => {
    let p = inflight.get(key);
    if (p === undefined) {
      p = task();
      inflight.set(key, p);
    }
    return p;
  };
  return Object.assign(once, { forget: (key: string) => void inflight.delete(key) });
}
