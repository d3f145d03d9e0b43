// Image references: parse, normalise (Docker's rules) and format. No I/O.
import { isAbsolute, join } from 'node:path';
import { LkvolError } from '../errors.js';
import { parseDigest, type Digest } from '../digest/digest.js';

/** The transports of images read from local files instead of a registry (skopeo's names). */
export const localTransports = ['oci-layout', 'docker-archive'] as const;
export type LocalTransport = (typeof localTransports)[number];

/**
 * An image in a local OCI image layout or `docker save` archive: `oci-layout:PATH[:REF]`, `docker-archive:PATH[:REF]`.
 */
export interface LocalImage {
  readonly transport: LocalTransport;
  /** The path as written (what messages and records show). */
  readonly path: string;
  /**
   * The path to open: `path` joined to the directory of the system file naming it (itself relative to the build's cwd
   * unless absolute).
   */
  readonly location: string;
  /**
   * The image's name in the layout (`org.opencontainers.image.ref.name`) or archive (a RepoTag); undefined: the only
   * one (or `latest`).
   */
  readonly name: string | undefined;
}

/** A parsed, normalised image reference (`docker.io/library/alpine:latest`). Only `parseReference` makes one. */
export interface NormalizedRef {
  /** Registry host as written, with port: `docker.io`, `127.0.0.1:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** Repository path inside the registry: `library/alpine`. */
  readonly repository: string;
  /** Tag, `latest` when neither tag nor digest was given; undefined for a digest-only reference. */
  readonly tag: string | undefined;
  /** Digest pinned by the reference; it wins over the tag. */
  readonly digest: Digest | undefined;
  /** Set for an image read from a local layout or archive; `registry` and `repository` are then empty. */
  readonly local?: LocalImage | undefined;
}

export const dockerHub = 'docker.io';

/** Where Docker Hub's registry API really answers (docker.io itself does not serve /v2/). */
export const dockerHubApiHost = 'registry-1.docker.io';

/** Hosts that all mean Docker Hub (distribution/reference, containers/image `normalizeRegistry`). */
const dockerHubAliases = new Set([dockerHub, 'index.docker.io', dockerHubApiHost]);

/** A registry host as lkvol keys it: every Docker Hub alias becomes `docker.io`; other hosts are kept. */
export function canonicalRegistry(host: string): string {
  return dockerHubAliases.has(host.toLowerCase()) ? dockerHub : host;
}

const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const hostComponent = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const ipv6Host = /^\[[a-fA-F0-9:]+(?:%[a-zA-Z0-9]+)?\]$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const maxNameLength = 255;

/**
 * Parses an image reference with Docker's normalisation: `alpine` → `docker.io/library/alpine:latest`,
 * `index.docker.io` → `docker.io`, `name:tag@sha256:…` keeps both and the digest wins.
 * @throws LKVOL_REF_INVALID with the reason.
 */
export function parseReference(input: string, opts: { base?: string } = {}): NormalizedRef {
  const transport = localTransports.find((t) => input.startsWith(`${t}:`));
  if (transport !== undefined) return parseLocalReference(input, transport, opts.base ?? '');
  const fail = (why: string): never => {
    throw new LkvolError('LKVOL_REF_INVALID', `invalid reference ${JSON.stringify(input)}: ${why}`, {
      hint: 'write it as [registry[:port]/]repository[:tag][@sha256:<64 hex>]',
    });
  };
  if (input === '') fail('empty');
  if (/\s/.test(input)) fail('contains white space');
  const at = input.indexOf('@');
  const namePart = at === -1 ? input : input.slice(0, at);
  let digest: Digest | undefined;
  if (at !== -1) {
    try {
      digest = parseDigest(input.slice(at + 1));
    } catch {
      fail(
        `digest ${JSON.stringify(input.slice(at + 1))} must be sha256:<64 lowercase hex> or sha512:<128 lowercase hex>`,
      );
    }
  }
  const { name, tag } = splitTag(namePart);
  if (tag !== undefined && !tagPattern.test(tag))
    fail(
      `tag ${JSON.stringify(tag)} may contain only [A-Za-z0-9_.-], must not start with . or -, and is at most 128 characters`,
    );
  const { registry, repository } = splitRegistry(name, fail);
  if (`${registry}/${repository}`.length > maxNameLength && registry !== dockerHub)
    fail(`name is longer than ${maxNameLength} characters`);
  if (repository.length > maxNameLength) fail(`repository is longer than ${maxNameLength} characters`);
  return { registry, repository, tag: tag ?? (digest === undefined ? 'latest' : undefined), digest };
}

/** Splits `name[:tag]`: the tag is after the last `:` that follows the last `/`, so `host:5000/x` has none. */
function splitTag(s: string): { name: string; tag: string | undefined } {
  const colon = s.lastIndexOf(':');
  if (colon === -1 || colon < s.lastIndexOf('/')) return { name: s, tag: undefined };
  return { name: s.slice(0, colon), tag: s.slice(colon + 1) };
}

function splitRegistry(name: string, fail: (why: string) => never): { registry: string; repository: string } {
  if (name === '') fail('missing repository name');
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const isHost =
    slash !== -1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
  let registry = isHost ? first : dockerHub;
  let repository = isHost ? name.slice(slash + 1) : name;
  if (isHost) validateHost(registry, fail);
  registry = canonicalRegistry(registry);
  if (registry === dockerHub && !repository.includes('/')) repository = `library/${repository}`;
  if (repository === '') fail('missing repository name');
  for (const part of repository.split('/')) {
    if (part !== part.toLowerCase()) fail(`repository name must be lowercase, got ${JSON.stringify(repository)}`);
    if (!pathComponent.test(part))
      fail(`repository path component ${JSON.stringify(part)} must match [a-z0-9]+ separated by ".", "_", "__" or "-"`);
  }
  return { registry, repository };
}

function validateHost(host: string, fail: (why: string) => never): void {
  const m = /^(.*?)(?::(\d+))?$/.exec(host);
  const hostname = m?.[1] ?? '';
  const port = m?.[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) fail(`registry port ${port} is out of range`);
  if (ipv6Host.test(hostname)) return;
  if (hostname === '' || !hostname.split('.').every((c) => hostComponent.test(c)))
    fail(`registry host ${JSON.stringify(host)} is not a valid host name`);
}

/**
 * `oci-layout:PATH[:REF][@DIGEST]` or `docker-archive:PATH[:REF][@DIGEST]`: PATH ends at the first `:`
 * (as skopeo splits it), so an archive's REF may be `name:tag`; a relative PATH is taken from `base`.
 */
function parseLocalReference(input: string, transport: LocalTransport, base: string): NormalizedRef {
  const fail = (why: string): never => {
    throw new LkvolError('LKVOL_REF_INVALID', `invalid reference ${JSON.stringify(input)}: ${why}`, {
      hint: `write it as ${transport}:PATH[:REF], PATH relative to the system file`,
    });
  };
  let rest = input.slice(transport.length + 1);
  let digest: Digest | undefined;
  const pinned = /@(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/.exec(rest);
  if (pinned !== null) {
    digest = parseDigest(pinned[1]!);
    rest = rest.slice(0, pinned.index);
  }
  const colon = rest.indexOf(':');
  const path = colon === -1 ? rest : rest.slice(0, colon);
  const name = colon === -1 ? undefined : rest.slice(colon + 1);
  if (path === '') fail('missing path');
  if (name === '') fail('empty image name after the path');
  if (path.includes('\0') || (name ?? '').includes('\0')) fail('contains a NUL byte');
  const location = isAbsolute(path) ? path : join(base, path);
  return { registry: '', repository: '', tag: undefined, digest, local: { transport, path, location, name } };
}

/** `registry/repository`, the name a tag or digest is attached to (`transport:PATH` for a local image). */
export function formatName(ref: NormalizedRef): string {
  if (ref.local !== undefined) return `${ref.local.transport}:${ref.local.path}`;
  return `${ref.registry}/${ref.repository}`;
}

/** A local image as written: `oci-layout:PATH[:REF]`. */
export function formatLocalImage(image: LocalImage): string {
  return `${image.transport}:${image.path}${image.name === undefined ? '' : `:${image.name}`}`;
}

/**
 * The full canonical string: `docker.io/library/alpine:3.21` or `…@sha256:…` (tag kept when both are set); a local
 * image as written.
 */
export function formatReference(ref: NormalizedRef): string {
  const named =
    ref.local !== undefined
      ? formatLocalImage(ref.local)
      : `${formatName(ref)}${ref.tag === undefined ? '' : `:${ref.tag}`}`;
  return `${named}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/**
 * What makes two references the same image for one build: the formatted reference, and for a local
 * image where its path leads (the same relative path in two directories names two images).
 */
export function referenceKey(ref: NormalizedRef): string {
  return ref.local === undefined ? formatReference(ref) : `${formatReference(ref)}\0${ref.local.location}`;
}

/** The reference pinned to a digest: `name@digest`. */
export function withDigest(ref: NormalizedRef, digest: Digest): NormalizedRef {
  return { ...ref, digest };
}

/** True for hosts lkvol treats as local: localhost, 127.0.0.0/8 and ::1 (any port). */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}
