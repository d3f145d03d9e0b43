// Removes credentials from URLs and registry-supplied text before they reach a message.

/** Query parameters whose values are safe to show; every other value is redacted (ggcr internal/redact). */
const safeQueryParams = new Set(['service', 'scope', 'n', 'last', 'digest', 'mount', 'from']);

/**
 * The URL with user info removed and every query value redacted except a few harmless ones,
 * so pre-signed object-storage URLs and tokens never appear in errors.
 */
export function redactUrl(input: string | URL): string {
  let url: URL;
  try {
    url = new URL(input.toString());
  } catch {
    return '<invalid url>';
  }
  if (url.username !== '' || url.password !== '') {
    url.username = 'REDACTED';
    url.password = '';
  }
  for (const key of [...new Set(url.searchParams.keys())]) {
    if (!safeQueryParams.has(key.toLowerCase())) url.searchParams.set(key, 'REDACTED');
  }
  return url.toString();
}

/** `GET /v2/x/manifests/1` for the registry's own origin, else the method and the redacted full URL. */
export function describeRequest(method: string, url: string | URL, registryOrigin: string | undefined): string {
  const u = new URL(url.toString());
  if (registryOrigin !== undefined && u.origin === registryOrigin) return `${method} ${u.pathname}`;
  return `${method} ${redactUrl(u)}`;
}

/** Registry-supplied text made safe for one line: control characters removed, length capped. */
export function sanitizeText(text: string, max = 200): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 3)}...` : clean;
}
