// The one way spec reports a bad container configuration: LKVOL_CONFIG_INVALID naming the container.
import { LkvolError } from '../errors.js';

/** Identifies the container an error is about. */
export interface Subject {
  name: string;
  image: string;
}

/**
 * `container "<name>" (<image>): <what>` as LKVOL_CONFIG_INVALID, the container as its context, with a
 * default hint.
 */
export function invalidConfig(subject: Subject, what: string, opts: { hint?: string } = {}): LkvolError {
  return new LkvolError('LKVOL_CONFIG_INVALID', what, {
    hint: opts.hint ?? 'fix the container entry in the system file, or the image label it inherits from',
  }).addContext(`container ${JSON.stringify(subject.name)} (${subject.image})`);
}
