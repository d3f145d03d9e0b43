// Parses manifest, index and config documents from untrusted bytes, deciding the kind safely.
import type { z } from 'zod';
import { LkvolError } from '../errors.js';
import {
  baseMediaType,
  isConfigMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  mediaTypes,
} from './media-types.js';
import {
  imageConfigSchema,
  indexSchema,
  manifestSchema,
  type ImageConfig,
  type Index,
  type Manifest,
} from './schema.js';

/** A parsed manifest-endpoint document: an image manifest or an index. */
export type ManifestDocument =
  { kind: 'manifest'; mediaType: string; manifest: Manifest } | { kind: 'index'; mediaType: string; index: Index };

/** Content-Types that say nothing about the document; the body's `mediaType` decides. */
const genericTypes = new Set(['', 'application/json', 'application/octet-stream', 'text/plain']);

/**
 * Parses a manifest or index. The kind comes from the body's `mediaType`, which must agree with a
 * specific `Content-Type`; without it, from the Content-Type, then from the shape. A document with both
 * `manifests` and `layers`/`config` is refused (CVE-2021-41190).
 * @throws LKVOL_REGISTRY_PROTOCOL for malformed or ambiguous documents, LKVOL_UNSUPPORTED_MEDIA_TYPE for
 * schema1 and unknown types.
 */
export function parseManifestDocument(
  bytes: Uint8Array,
  opts: { contentType?: string | undefined; subject: string },
): ManifestDocument {
  const { subject } = opts;
  const body = parseJson(bytes, subject);
  const header = baseMediaType(opts.contentType);
  const declared = typeof body.mediaType === 'string' ? body.mediaType : undefined;
  if (
    isSchema1MediaType(header) ||
    (declared !== undefined && isSchema1MediaType(declared)) ||
    body.schemaVersion === 1
  ) {
    throw new LkvolError(
      'LKVOL_UNSUPPORTED_MEDIA_TYPE',
      `${subject}: docker schema1 manifests are deprecated and not supported`,
      {
        hint: 'push the image again with a current docker, buildah or crane (they write schema2 or OCI)',
      },
    );
  }
  if ('manifests' in body && ('layers' in body || 'config' in body)) {
    throw protocol(
      `${subject}: document has both "manifests" and "layers"/"config"; refusing an ambiguous manifest/index`,
    );
  }
  if (declared !== undefined && !genericTypes.has(header) && declared !== header) {
    throw protocol(
      `${subject}: mediaType ${JSON.stringify(declared)} disagrees with Content-Type ${JSON.stringify(header)}`,
    );
  }
  const mediaType = declared ?? (genericTypes.has(header) ? inferMediaType(body) : header);
  if (isIndexMediaType(mediaType)) return { kind: 'index', mediaType, index: validate(indexSchema, body, subject) };
  if (isManifestMediaType(mediaType))
    return { kind: 'manifest', mediaType, manifest: validate(manifestSchema, body, subject) };
  throw new LkvolError(
    'LKVOL_UNSUPPORTED_MEDIA_TYPE',
    `${subject}: unsupported media type ${JSON.stringify(mediaType)}: want an OCI or Docker schema2 manifest or index`,
    {
      hint: 'lkvol pulls container images; this reference names something else (an artifact?)',
    },
  );
}

/** Refuses manifests whose config is not an image config (artifacts such as Helm charts). */
export function checkImageManifest(manifest: Manifest, subject: string): void {
  if (!isConfigMediaType(manifest.config.mediaType)) {
    throw new LkvolError(
      'LKVOL_UNSUPPORTED_MEDIA_TYPE',
      `${subject}: config media type ${JSON.stringify(manifest.config.mediaType)} is not an image config`,
      {
        hint: 'lkvol pulls container images; this reference names an artifact',
      },
    );
  }
}

/**
 * Parses an image config (image-spec `config.md`).
 * @throws LKVOL_REGISTRY_PROTOCOL when it is not JSON or breaks the schema.
 */
export function parseImageConfig(bytes: Uint8Array, opts: { subject: string }): ImageConfig {
  return validate(imageConfigSchema, parseJson(bytes, opts.subject), opts.subject);
}

function inferMediaType(body: Record<string, unknown>): string {
  if (Array.isArray(body.manifests)) return mediaTypes.ociIndex;
  if ('config' in body && 'layers' in body) return mediaTypes.ociManifest;
  return 'unknown';
}

function parseJson(bytes: Uint8Array, subject: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new LkvolError('LKVOL_REGISTRY_PROTOCOL', `${subject}: not valid JSON`, { cause: err, hint: protocolHint });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw protocol(`${subject}: want a JSON object`);
  return value as Record<string, unknown>;
}

function validate<S extends z.ZodType>(schema: S, value: unknown, subject: string): z.infer<S> {
  // jitless: each schema parses a few documents a run, fewer than compiling zod's fast path for it pays back.
  const result = schema.safeParse(value, { jitless: true });
  if (result.success) return result.data as z.infer<S>;
  const issues = result.error.issues.slice(0, 3).map((i) => `${formatPath(i.path)}: ${i.message}`);
  throw new LkvolError('LKVOL_REGISTRY_PROTOCOL', `${subject}: invalid document: ${issues.join('; ')}`, {
    cause: result.error,
    hint: protocolHint,
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

const protocolHint = 'the registry served a malformed document; report it to the image publisher';

function protocol(message: string): LkvolError {
  return new LkvolError('LKVOL_REGISTRY_PROTOCOL', message, { hint: protocolHint });
}
