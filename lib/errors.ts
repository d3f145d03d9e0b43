// The one error type that crosses lib's public surface, its stable codes and their exit codes.

/** Stable error codes. Codes are API: callers match on `err.code`. */
export const errorCodes = {
  /** The command line was wrong: unknown flag, missing argument, bad flag combination. */
  LKVOL_USAGE: 2,
  /** OUT may not be replaced: a protected path, a file, or a directory lkvol did not write (SPEC §2). */
  LKVOL_OUTPUT_REFUSED: 2,
  /** A system file is not valid YAML. */
  LKVOL_CONFIG_SYNTAX: 2,
  /** A system file is valid YAML but breaks the schema or a semantic rule. */
  LKVOL_CONFIG_INVALID: 2,
  /** An image reference or digest string is malformed. */
  LKVOL_REF_INVALID: 2,
  /** A bind of a host path breaks the `--policy` file (denied, not allowed, or not read-only where required). */
  LKVOL_POLICY_VIOLATION: 2,
  /** lkvol.lock is not a lock lkvol wrote, or (`--locked`) is missing or does not match the system files. */
  LKVOL_LOCK: 2,
  /** The registry refused our credentials, or asked for credentials we do not have. */
  LKVOL_REGISTRY_AUTH: 1,
  /** The repository, tag, manifest or blob does not exist on the registry. */
  LKVOL_REGISTRY_NOT_FOUND: 1,
  /** The registry could not be reached or kept failing (network errors, 5xx, 429). */
  LKVOL_REGISTRY_UNAVAILABLE: 1,
  /** The registry answered with something that breaks the distribution or image spec. */
  LKVOL_REGISTRY_PROTOCOL: 1,
  /** An index has no manifest for the requested platform. */
  LKVOL_PLATFORM_NOT_FOUND: 1,
  /** A manifest, config or layer has a media type lkvol does not handle. */
  LKVOL_UNSUPPORTED_MEDIA_TYPE: 1,
  /** A blob's bytes do not match its digest or size. */
  LKVOL_DIGEST_MISMATCH: 1,
  /** A layer entry would escape the volume root or is otherwise unsafe; nothing was written outside. */
  LKVOL_LAYER_UNSAFE_PATH: 1,
  /** A layer is not a well-formed tar stream (bad header, bad compression, unknown entry type). */
  LKVOL_LAYER_CORRUPT: 1,
  /** A layer or volume exceeds a size, entry-count or depth limit. */
  LKVOL_LAYER_LIMIT: 1,
  /** A volume's provisioner was not found, failed, or outlived its timeout. */
  LKVOL_PROVISIONER: 1,
  /**
   * An `oci-layout:` or `docker-archive:` image is missing, is not a layout or archive, or lacks the named
   * image or a blob.
   */
  LKVOL_LOCAL_IMAGE: 1,
  /** A file-system operation on the host failed (permissions, disk full). */
  LKVOL_IO: 1,
  /** The operation was cancelled (SIGINT or an aborted signal). */
  LKVOL_CANCELLED: 130,
  /** A broken invariant inside lkvol. */
  LKVOL_INTERNAL: 1,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface LkvolErrorOptions {
  cause?: unknown;
  hint?: string | undefined;
  /** Contexts `message` already starts with, outermost first: an error made again from another keeps its `context`. */
  context?: readonly string[] | undefined;
}

/** Base class of every error lkvol throws. `message` is subject + what failed + why; `hint` says what to do. */
export class LkvolError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly #context: string[];

  constructor(code: ErrorCode, message: string, opts: LkvolErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LkvolError';
    this.code = code;
    this.hint = opts.hint;
    this.#context = [...(opts.context ?? [])];
  }

  /**
   * Where the error happened, outermost first: the volume, container or image it passed up through
   * (`volume "data"`, `services "web" (system.yml:9:12)`). `message` starts with each, in this order;
   * `--json` errors carry them as `context`.
   */
  get context(): readonly string[] {
    return this.#context;
  }

  /**
   * Names where the error happened as it passes up: records `context` and starts the message with
   * `<context>: `. Idempotent: a context already recorded is not added again, and one the message already
   * starts with (the error was made there) is only recorded. Returns the error: `throw err.addContext(…)`.
   */
  addContext(context: string): this {
    if (this.#context.includes(context)) return this;
    if (!this.message.startsWith(`${context}: `)) this.message = `${context}: ${this.message}`;
    this.#context.unshift(context);
    return this;
  }
}

/** One problem in a system file, located at file:line:col. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted path inside the document, e.g. `volumes[1].image`. */
  path: string;
  message: string;
}

/** A system file is invalid; `issues` holds every problem found, sorted by file and line. */
export class ConfigError extends LkvolError {
  readonly issues: readonly ConfigIssue[];

  constructor(
    code: 'LKVOL_CONFIG_SYNTAX' | 'LKVOL_CONFIG_INVALID' | 'LKVOL_POLICY_VIOLATION',
    issues: readonly ConfigIssue[],
    opts: LkvolErrorOptions = {},
  ) {
    super(code, issues.map(formatConfigIssue).join('\n'), {
      hint: opts.hint ?? 'fix the listed lines; see the README section "System file" for the format',
      cause: opts.cause,
    });
    this.name = 'ConfigError';
    this.issues = issues;
  }

  /** Leaves the error as it is: each issue is already located by file:line:col, which says more than a context. */
  override addContext(_context: string): this {
    return this;
  }
}

/** `file:line:col: path: message`, the one rendering of a config issue. */
export function formatConfigIssue(i: ConfigIssue): string {
  const where = `${i.file}:${i.line}:${i.column}`;
  return i.path === '' ? `${where}: ${i.message}` : `${where}: ${i.path}: ${i.message}`;
}

/** What a registry error says of the exchange, besides the options of every LkvolError. */
export interface RegistryErrorOptions extends LkvolErrorOptions {
  status?: number;
  registryCode?: string;
  method?: string;
  url?: string;
  /** True when retrying may help (network errors, 408, 429, 5xx). */
  temporary?: boolean;
}

/** An HTTP exchange with a registry failed. URLs are already redacted. */
export class RegistryError extends LkvolError {
  readonly status: number | undefined;
  readonly registryCode: string | undefined;
  readonly method: string | undefined;
  readonly url: string | undefined;
  /** True when retrying may help (network errors, 408, 429, 5xx). */
  readonly temporary: boolean;

  constructor(code: ErrorCode, message: string, opts: RegistryErrorOptions = {}) {
    super(code, message, opts);
    this.name = 'RegistryError';
    this.status = opts.status;
    this.registryCode = opts.registryCode;
    this.method = opts.method;
    this.url = opts.url;
    this.temporary = opts.temporary ?? false;
  }

  /**
   * The same error with more said: its message continued (`o.message` starts with it) and another hint;
   * the original is the cause.
   */
  explained(o: { message: string; hint: string }): RegistryError {
    const fields = {
      temporary: this.temporary,
      ...(this.status === undefined ? {} : { status: this.status }),
      ...(this.method === undefined ? {} : { method: this.method }),
      ...(this.url === undefined ? {} : { url: this.url }),
      ...(this.registryCode === undefined ? {} : { registryCode: this.registryCode }),
    };
    return new RegistryError(this.code, o.message, { ...fields, cause: this, hint: o.hint, context: this.context });
  }
}

/** A blob's content does not match its descriptor. */
export class DigestMismatchError extends LkvolError {
  readonly subject: string;
  readonly expected: string;
  readonly actual: string;
  readonly bytesRead: number;

  constructor(fields: {
    subject: string;
    expected: string;
    actual: string;
    bytesRead: number;
    reason?: string;
    hint?: string;
  }) {
    super(
      'LKVOL_DIGEST_MISMATCH',
      `${fields.subject}: ${fields.reason ?? 'digest mismatch'} after ${fields.bytesRead} bytes: expected ${fields.expected}, got ${fields.actual}`,
      {
        hint:
          fields.hint ??
          'retry; if it persists the registry or the cache holds corrupt data (remove the cache directory)',
      },
    );
    this.name = 'DigestMismatchError';
    this.subject = fields.subject;
    this.expected = fields.expected;
    this.actual = fields.actual;
    this.bytesRead = fields.bytesRead;
  }
}

/** A layer entry was refused; nothing outside the volume was touched. */
export class UnsafePathError extends LkvolError {
  readonly layer: string;
  readonly entry: string;

  constructor(fields: { layer: string; entry: string; reason: string }, opts: LkvolErrorOptions = {}) {
    super(
      'LKVOL_LAYER_UNSAFE_PATH',
      `layer ${fields.layer}: entry ${JSON.stringify(fields.entry)}: ${fields.reason}; refusing to extract`,
      {
        hint: opts.hint ?? 'the image holds an unsafe archive entry; rebuild it or use another image',
        cause: opts.cause,
      },
    );
    this.name = 'UnsafePathError';
    this.layer = fields.layer;
    this.entry = fields.entry;
  }
}

/** The process exit code for an error: 2 usage/config, 130 cancelled, 1 everything else. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof LkvolError) return errorCodes[err.code];
  return 1;
}

/** True for an error of the given code, whatever its class. */
export function isLkvolError(err: unknown, code?: ErrorCode): err is LkvolError {
  return err instanceof LkvolError && (code === undefined || err.code === code);
}

/**
 * Wraps a foreign error (fs, undici, zod) as an LkvolError, keeping it as the cause; LkvolErrors pass through.
 * Unlike STYLE §6's rule, the cause's short reason (errno code + message, never a stack) joins the
 * message: "ENOSPC" is what a user needs to act on, and it must show without --debug. `what` is the
 * message, or the message and a hint.
 */
export function wrapError(err: unknown, code: ErrorCode, what: string | { message: string; hint: string }): LkvolError {
  const { message, hint } = typeof what === 'string' ? { message: what, hint: undefined } : what;
  if (err instanceof LkvolError) return err;
  if (isAbortError(err)) return new LkvolError('LKVOL_CANCELLED', `${message}: cancelled`, { cause: err });
  return new LkvolError(code, `${message}: ${describeCause(err)}`, { cause: err, hint });
}

/** `addContext` for a caught error of any type: an LkvolError gets the context (same object), others pass unchanged. */
export function withContext(err: unknown, context: string): unknown {
  return err instanceof LkvolError ? err.addContext(context) : err;
}

/** An internal invariant broke: always a bug. */
export function internalError(message: string, cause?: unknown): LkvolError {
  return new LkvolError('LKVOL_INTERNAL', message, { cause, hint: 'this is a bug; please report it' });
}

/** True for the errors Node and undici raise when an AbortSignal fires. */
export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: unknown }).code === 'ABORT_ERR');
}

/** The short reason of a foreign error: its errno code and message, no stack. */
export function describeCause(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
