// Renders an error for a person (message + hint, cause chain with --debug) or as one JSON object.
import { ConfigError, LkvolError, exitCodeFor, formatConfigIssue } from '../../lib/index.js';

/** The text written to stderr for a failure: `lkvol: <message> (<CODE>)` then `hint: …`. */
export function renderErrorText(err: unknown, opts: { debug: boolean }): string {
  const e = asLkvolError(err);
  const lines =
    e instanceof ConfigError ? e.issues.map((i) => `lkvol: ${formatConfigIssue(i)}`) : [`lkvol: ${e.message}`];
  lines[lines.length - 1] += ` (${e.code})`;
  if (e.hint !== undefined) lines.push(`hint: ${e.hint}`);
  if (opts.debug) lines.push(...causeChain(e));
  return lines.join('\n') + '\n';
}

/**
 * The JSON object written to stdout with --json:
 * `{ ok: false, error: { code, message, hint, exitCode, context?, issues? } }`.
 */
export function renderErrorJson(err: unknown): string {
  const e = asLkvolError(err);
  const error: Record<string, unknown> = {
    code: e.code,
    message: e.message,
    hint: e.hint ?? null,
    exitCode: exitCodeFor(e),
  };
  if (e.context.length > 0) error['context'] = e.context;
  if (e instanceof ConfigError) error['issues'] = e.issues;
  return JSON.stringify({ ok: false, error }) + '\n';
}

function asLkvolError(err: unknown): LkvolError {
  if (err instanceof LkvolError) return err;
  return new LkvolError('LKVOL_INTERNAL', err instanceof Error ? err.message : String(err), {
    cause: err,
    hint: 'this is a bug; please report it with --debug output',
  });
}

function causeChain(err: Error): string[] {
  const out: string[] = [];
  let cause: unknown = err.cause;
  for (let depth = 0; cause !== undefined && depth < 8; depth++) {
    out.push(`caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  if (err.stack !== undefined) out.push(err.stack);
  return out;
}
