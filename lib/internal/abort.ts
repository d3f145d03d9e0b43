// Per-task abort signals, so many concurrent tasks under one build signal do not pile listeners onto it.

/**
 * A signal of its own for one task (a resolve, a download) that aborts, with the same reason, when
 * `parent` does. Whatever the task attaches (undici's request listener, `pipeline`'s) lands on this
 * signal, not on `parent`: a dependent signal is linked to its source without an event listener (DOM
 * "create a dependent abort signal"), so a build with dozens of images in flight stays under Node's
 * 10-listener warning without raising the limit. Undefined when `parent` is.
 * @see https://dom.spec.whatwg.org/#create-a-dependent-abort-signal
 */
export function taskSignal(parent: AbortSignal | undefined): AbortSignal | undefined {
  return parent === undefined ? undefined : AbortSignal.any([parent]);
}
