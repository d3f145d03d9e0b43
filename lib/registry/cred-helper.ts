// Runs `docker-credential-<name> get` (the docker-credential-helpers protocol) with execa.
import { LkvolError } from '../errors.js';
import type { Credentials } from './auth-file.js';

/** What a helper said: credentials, or nothing (not stored, or the helper is not installed). */
export type HelperResult =
  { kind: 'found'; credentials: Credentials } | { kind: 'none'; reason: 'not-found' | 'missing' };

export interface HelperOptions {
  /** The part after `docker-credential-` (`pass`, `desktop`, `ecr-login`). */
  helper: string;
  /** Written on stdin: `https://index.docker.io/v1/` for Docker Hub, else the registry host. */
  serverUrl: string;
  /** The helper's whole environment (PATH finds it). Undefined: the child inherits this process's. */
  env?: Record<string, string | undefined> | undefined;
  signal?: AbortSignal | undefined;
}

/** docker-credential-helpers `credentials/error.go`: the one failure that means "no credentials". */
const notFoundMessage = 'credentials not found in native keychain';
const helperTimeoutMs = 60_000;

/**
 * Asks a credential helper for a server's credentials. Username `<token>` marks Secret as an identity token.
 * @throws LKVOL_REGISTRY_AUTH when the helper fails otherwise or prints something other than its JSON
 * (the message names the helper and its exit code, never its output, which may hold secrets);
 * LKVOL_CANCELLED when the signal aborts.
 */
export async function runCredentialHelper(o: HelperOptions): Promise<HelperResult> {
  const command = `docker-credential-${o.helper}`;
  // Loaded on first use: most builds run no helper, and execa costs ~80 ms of start-up.
  const { execa } = await import('execa');
  const result = await execa(command, ['get'], {
    input: o.serverUrl,
    reject: false,
    timeout: helperTimeoutMs,
    maxBuffer: 1 << 20,
    stdin: 'pipe',
    stderr: 'pipe',
    ...(o.env === undefined ? {} : { env: o.env, extendEnv: false }),
    ...(o.signal === undefined ? {} : { cancelSignal: o.signal }),
  });
  const subject = `credential helper ${command} (get ${o.serverUrl})`;
  if (result.isCanceled) throw new LkvolError('LKVOL_CANCELLED', `${subject}: cancelled`);
  if (result.failed && result.code === 'ENOENT' && result.exitCode === undefined)
    return { kind: 'none', reason: 'missing' };
  if (result.failed) {
    if ([result.stdout, result.stderr].some((s) => typeof s === 'string' && s.trim() === notFoundMessage))
      return { kind: 'none', reason: 'not-found' };
    const how = result.timedOut
      ? `timed out after ${helperTimeoutMs / 1000} s`
      : result.exitCode === undefined
        ? `could not run (${result.code ?? 'error'})`
        : `exited with ${result.exitCode}`;
    // No cause: execa's error quotes stdout and stderr, and --debug prints causes.
    throw new LkvolError('LKVOL_REGISTRY_AUTH', `${subject}: ${how}`, {
      hint: `run "echo ${o.serverUrl} | ${command} get" to see why, or remove the helper from the credentials file`,
    });
  }
  return { kind: 'found', credentials: parseHelperOutput(String(result.stdout), subject, command) };
}

function parseHelperOutput(stdout: string, subject: string, command: string): Credentials {
  const bad = () =>
    new LkvolError('LKVOL_REGISTRY_AUTH', `${subject}: output is not JSON with "Username" and "Secret"`, {
      hint: `check that ${command} follows the docker-credential-helpers protocol`,
    });
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    throw bad();
  }
  const { Username: username, Secret: secret } = parsed ?? {};
  if (typeof username !== 'string' || typeof secret !== 'string' || secret === '') throw bad();
  const origin = command;
  // `<token>` is how docker stores an identity token (docker/cli `credentials/native_store.go`).
  if (username === '<token>') return { identityToken: secret, origin };
  return { username, password: secret, origin };
}
