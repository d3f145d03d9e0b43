// The tags of a repository (distribution-spec `GET /v2/<name>/tags/list`): to say which exist when one does not.
import { formatName, type NormalizedRef } from '../ref/index.js';
import { editDistance } from '../internal/compare.js';
import { readCapped } from './response.js';
import type { Transport } from './transport.js';

/** At most this many tags are asked for (one page); a registry may return fewer, or refuse listing. */
export const tagPageSize = 1000;

/**
 * The first page of `ref`'s repository's tags, as the registry lists them.
 * @throws LKVOL_REGISTRY_* when the registry refuses or fails (callers treat listing as optional).
 */
export async function listTags(
  transport: Transport,
  ref: NormalizedRef,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<string[]> {
  const res = await transport.request({
    method: 'GET',
    path: `/v2/${ref.repository}/tags/list?n=${tagPageSize}`,
    scope: `repository:${ref.repository}:pull`,
    subject: `list tags of ${formatName(ref)}`,
    signal: opts.signal,
  });
  const bytes = await readCapped(res.body, res.ctx, { limit: 1 << 20, contentLength: res.headers['content-length'] });
  const parsed = JSON.parse(bytes.toString('utf8')) as { tags?: unknown };
  return Array.isArray(parsed.tags) ? parsed.tags.filter((t): t is string => typeof t === 'string') : [];
}

/** Up to `count` of `tags` closest to `wanted` (shared prefix first, then edit distance), for "did you mean". */
export function nearestTags(wanted: string, tags: readonly string[], count = 5): string[] {
  const prefix = (t: string): number => {
    let i = 0;
    while (i < t.length && i < wanted.length && t[i] === wanted[i]) i++;
    return i;
  };
  return [...tags]
    .map((t) => ({ t, p: prefix(t), d: editDistance(wanted, t) }))
    .sort((a, b) => b.p - a.p || a.d - b.d || (a.t < b.t ? -1 : a.t > b.t ? 1 : 0))
    .slice(0, count)
    .map((x) => x.t);
}
