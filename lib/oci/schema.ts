// Zod schemas of OCI/Docker descriptors, manifests, indexes and image configs; the types are inferred.
import * as z from 'zod';
import { isDigest, type Digest } from '../digest/digest.js';

/** A digest string validated like `parseDigest` does, typed as `Digest`. */
const digestSchema: z.ZodType<Digest, string> = z.custom<Digest>((v) => typeof v === 'string' && isDigest(v), {
  message: 'must be sha256:<64 lowercase hex> or sha512:<128 lowercase hex>',
});

const nullishList = z
  .array(z.string())
  .nullish()
  .transform((v) => v ?? undefined);

/** A platform as written in an index (`os.version` and `os.features` matter only for Windows). */
export const platformSchema = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  'os.version': z.string().optional(),
  'os.features': z.array(z.string()).optional(),
  variant: z.string().optional(),
  features: z.array(z.string()).optional(),
});

/** A content descriptor (image-spec `descriptor.md`); unknown fields are kept. */
export const descriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: digestSchema,
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  platform: platformSchema.optional(),
  artifactType: z.string().optional(),
});

/** An image manifest, OCI or Docker schema2 (image-spec `manifest.md`). */
export const manifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** An image index or Docker manifest list (image-spec `image-index.md`). */
export const indexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  manifests: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** The runtime part of an image config; Docker writes `null` for empty lists, read here as absent. */
export const containerConfigSchema = z.looseObject({
  User: z.string().optional(),
  ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
  Env: nullishList,
  Entrypoint: nullishList,
  Cmd: nullishList,
  Volumes: z.record(z.string(), z.unknown()).nullish(),
  WorkingDir: z.string().optional(),
  Labels: z
    .record(z.string(), z.string())
    .nullish()
    .transform((v) => v ?? undefined),
  StopSignal: z.string().optional(),
});

/** An image config (image-spec `config.md`); `os`/`architecture` are required by the spec but tolerated absent. */
export const imageConfigSchema = z.looseObject({
  created: z.string().optional(),
  author: z.string().optional(),
  architecture: z.string().optional(),
  os: z.string().optional(),
  'os.version': z.string().optional(),
  variant: z.string().optional(),
  config: containerConfigSchema.nullish().transform((v) => v ?? undefined),
  rootfs: z.looseObject({
    type: z.literal('layers'),
    diff_ids: z.array(digestSchema),
  }),
  history: z.array(z.looseObject({})).optional(),
});

export type PlatformSpec = z.infer<typeof platformSchema>;
export type Descriptor = z.infer<typeof descriptorSchema>;
export type Manifest = z.infer<typeof manifestSchema>;
export type Index = z.infer<typeof indexSchema>;
export type ContainerConfig = z.infer<typeof containerConfigSchema>;
export type ImageConfig = z.infer<typeof imageConfigSchema>;
