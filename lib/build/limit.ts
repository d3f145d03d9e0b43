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

/** Memoises an async function by key, so concurrent callers share one in-flight promise. */
export function createOnce<T>(): (key: string, task: () => Promise<T>) => Promise<T> {
  const inflight = new Map<string, Promise<T>>();
  return (key, task) => {
    let p = inflight.get(key);
    if (p === undefined) {
      p = task();
      inflight.set(key, p);
    }
    return p;
  };
}
