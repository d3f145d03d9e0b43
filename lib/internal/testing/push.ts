// Test helper: push blobs, images and indexes to a test registry through the distribution HTTP API.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { request } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

export type ImageFormat = 'oci' | 'docker';

export interface PushAuth {
  user: string;
  password: string;
}

export interface PushTarget {
  /** `127.0.0.1:PORT`; always spoken to over plain HTTP. */
  registry: string;
  repository: string;
  auth?: PushAuth | undefined;
}

export interface LayerInput {
  /** The blob as stored (e.g. gzip). */
  data: Buffer;
  /** Defaults to the gzip layer type of the format. */
  mediaType?: string;
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /**
   * `urls` of the layer's descriptor (foreign, non-distributable layers); needs a registry started with
   * `allowForeignUrls`.
   */
  urls?: string[];
  /** Leave the blob out of the registry, so it exists only at its `urls`. */
  unpushed?: boolean;
}

export interface PushedImage {
  manifestDigest: string;
  manifestSize: number;
  manifestMediaType: string;
  configDigest: string;
  layerDigests: string[];
}

export interface IndexEntryInput {
  digest: string;
  size: number;
  mediaType: string;
  platform?: { os: string; architecture: string; variant?: string } | undefined;
  annotations?: Record<string, string>;
}

const types = {
  oci: {
    index: 'application/vnd.oci.image.index.v1+json',
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  },
  docker: {
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  },
} as const;

/** `sha256:<hex>` of a buffer. */
export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Uploads one blob (POST then monolithic PUT) and returns its digest. */
export async function pushBlob(target: PushTarget, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const base = `http://${target.registry}/v2/${target.repository}/blobs/uploads/`;
  const start = await send(target, 'POST', base, {});
  const location = new URL(start.headers.get('location') ?? fail('POST upload: no Location'), base);
  location.searchParams.set('digest', digest);
  await send(target, 'PUT', location.toString(), { body: data, contentType: 'application/octet-stream' });
  return digest;
}

/** A blob already written to a file, with its digest and size computed while it was written. */
export interface BlobFile {
  path: string;
  digest: string;
  size: number;
}

/**
 * Uploads one blob from a file (POST then monolithic PUT), streaming it: blobs of hundreds of MB never
 * sit in memory. The registry checks the digest, so a corrupted file fails the PUT.
 */
export async function pushBlobFile(target: PushTarget, blob: BlobFile): Promise<string> {
  const base = `http://${target.registry}/v2/${target.repository}/blobs/uploads/`;
  const start = await send(target, 'POST', base, {});
  const location = new URL(start.headers.get('location') ?? fail('POST upload: no Location'), base);
  location.searchParams.set('digest', blob.digest);
  // node:http rather than fetch: a stream body with a Content-Length, not chunked encoding.
  const req = request(location, {
    method: 'PUT',
    headers: { ...authHeader(target), 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
  });
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  // Both awaited together, so a registry that answers early (and fails the upload) is still reported.
  const [, { status, text }] = await Promise.all([pipeline(createReadStream(blob.path), req), response]);
  if (status < 200 || status > 299) fail(`PUT ${location.toString()}: ${status} ${text.slice(0, 500)}`);
  return blob.digest;
}

/** PUTs a manifest or index document under `reference` (a tag or digest); returns its digest. */
export async function pushManifest(
  target: PushTarget & { reference: string },
  body: Buffer,
  mediaType: string,
): Promise<string> {
  const url = `http://${target.registry}/v2/${target.repository}/manifests/${target.reference}`;
  await send(target, 'PUT', url, { body, contentType: mediaType });
  return sha256(body);
}

/**
 * Pushes the layers, a config (`config` merged over a linux/amd64 base with `rootfs.diff_ids` filled)
 * and a manifest of the given format, tagged `tag`.
 */
export async function pushImage(
  opts: PushTarget & { tag: string; layers: LayerInput[]; config?: Record<string, unknown>; format: ImageFormat },
): Promise<PushedImage> {
  const t = types[opts.format];
  const layerDigests: string[] = [];
  for (const layer of opts.layers)
    layerDigests.push(layer.unpushed === true ? sha256(layer.data) : await pushBlob(opts, layer.data));
  const config = Buffer.from(JSON.stringify(imageConfig(opts.layers, opts.config ?? {})));
  const configDigest = await pushBlob(opts, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: t.manifest,
    config: { mediaType: t.config, digest: configDigest, size: config.length },
    layers: opts.layers.map((l, i) => ({
      mediaType: l.mediaType ?? t.layer,
      digest: layerDigests[i],
      size: l.data.length,
      ...(l.urls === undefined ? {} : { urls: l.urls }),
    })),
  };
  const body = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = await pushManifest({ ...opts, reference: opts.tag }, body, t.manifest);
  return { manifestDigest, manifestSize: body.length, manifestMediaType: t.manifest, configDigest, layerDigests };
}

/** Pushes an index (OCI) or manifest list (Docker) of already pushed manifests, tagged `tag`. */
export async function pushIndex(
  opts: PushTarget & { tag: string; manifests: IndexEntryInput[]; format: ImageFormat },
): Promise<{ digest: string; size: number }> {
  const mediaType = types[opts.format].index;
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests: opts.manifests }));
  const digest = await pushManifest({ ...opts, reference: opts.tag }, body, mediaType);
  return { digest, size: body.length };
}

function imageConfig(layers: LayerInput[], partial: Record<string, unknown>): Record<string, unknown> {
  return {
    created: '1970-01-01T00:00:00Z',
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    ...partial,
  };
}

/** A gzip member of `tar`, as registries store layers. */
export function gzipLayer(tar: Buffer): Buffer {
  return gzipSync(tar);
}

/** A tar of regular files (mode 0644, mtime 0), in the order given. */
export async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const [name, content] of Object.entries(files)) {
    p.entry({ name, mode: 0o644, mtime: new Date(0), type: 'file' }, content);
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A gzip layer of `files`, ready for `pushImage`. */
export async function layerOf(files: Record<string, string>): Promise<LayerInput> {
  const tar = await tarOf(files);
  return { data: gzipLayer(tar), diffId: sha256(tar) };
}

async function send(
  target: PushTarget,
  method: string,
  url: string,
  opts: { body?: Buffer; contentType?: string },
): Promise<Response> {
  const headers: Record<string, string> = authHeader(target);
  if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
  const res = await fetch(url, { method, headers, ...(opts.body === undefined ? {} : { body: opts.body }) });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) fail(`${method} ${url}: ${res.status} ${text.slice(0, 500)}`);
  return res;
}

function authHeader(target: PushTarget): Record<string, string> {
  if (target.auth === undefined) return {};
  return { authorization: `Basic ${Buffer.from(`${target.auth.user}:${target.auth.password}`).toString('base64')}` };
}

function fail(message: string): never {
  throw new Error(`push: ${message}`);
}
