// The registry auth handshake: pick a challenge, fetch and cache Bearer tokens per scope, or send Basic.
import type { Credentials } from './auth-file.js';
import type { Challenge } from './challenge.js';
import type { Sender } from './send.js';
import { basicCredentials, fetchToken, type CachedToken } from './token.js';

export interface AuthorizeOptions {
  /** Skip the token cache (after a 401). */
  fresh: boolean;
  subject: string;
  signal: AbortSignal | undefined;
  /**
   * The origin that answered the ping; a plain-HTTP token realm is allowed only when it is `http:` (or the registry is
   * insecure).
   */
  registryOrigin: string;
}

/** Chooses how to authorise a scope and remembers Bearer tokens per realm, service and scope. */
export interface Authorizer {
  /** The `Authorization` value for `scope`, or undefined for anonymous. */
  authorize(challenges: Challenge[], scope: string, opts: AuthorizeOptions): Promise<string | undefined>;
}

/** Creates an Authorizer for one registry and one set of credentials. */
export function createAuthorizer(opts: {
  registry: string;
  credentials: Credentials | undefined;
  insecure: boolean;
  send: Sender;
}): Authorizer {
  // Promises, so parallel requests for one scope share a single token request.
  const tokens = new Map<string, Promise<CachedToken>>();
  const basic = basicCredentials(opts.credentials);
  return {
    async authorize(challenges, scope, req) {
      const bearer = challenges.find((c) => c.scheme === 'bearer');
      if (bearer === undefined) return challenges.some((c) => c.scheme === 'basic') ? basic : undefined;
      if (opts.credentials?.registryToken !== undefined) return `Bearer ${opts.credentials.registryToken}`;
      // An insufficient_scope challenge names the scope the registry wants; ask for it first, with ours.
      const asked = bearer.params.scope;
      const scopes = asked === undefined || asked === scope ? [scope] : [asked, scope];
      const key = `${bearer.params.realm ?? ''} ${bearer.params.service ?? ''} ${scopes.join(' ')}`;
      // Read the map before any await, so a request started in parallel finds the pending token.
      const pending = req.fresh ? undefined : tokens.get(key);
      if (pending !== undefined) {
        const cached = await pending.catch(() => undefined);
        if (cached !== undefined && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
      }
      const allowHttpRealm = opts.insecure || req.registryOrigin.startsWith('http:');
      const fetching = fetchToken(
        { ...opts, allowHttpRealm, scopes, subject: req.subject, signal: req.signal },
        bearer,
      );
      tokens.set(key, fetching);
      fetching.catch(() => {
        if (tokens.get(key) === fetching) tokens.delete(key);
      });
      return `Bearer ${(await fetching).token}`;
    },
  };
}
