// Test helper: `before` hooks that run one after another, in the order they were registered.
import { before } from 'node:test';

let turn: Promise<void> = Promise.resolve();
let failure: { error: unknown } | undefined;

/**
 * Registers a `before` hook on the current file or suite that starts once every hook registered
 * through this function earlier has finished. Node 20 starts file-level `before` hooks as soon as they
 * are registered, all at once (checked on 20.20), so a hook that needs a fixture must wait its turn.
 * After a hook fails, the later ones throw its error instead of running: the tests report the cause.
 */
export function beforeInTurn(fn: () => unknown): void {
  before(() => {
    const run = turn.then(async () => {
      if (failure !== undefined) throw failure.error;
      try {
        await fn();
      } catch (error) {
        failure = { error };
        throw error;
      }
    });
    turn = run.catch(() => undefined);
    return run;
  });
}
