// TLS trust for one registry: CA files the caller names and the certs.d/<host:port>/ convention.
import { X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { LkvolError, wrapError } from '../errors.js';

/** What a connection to the registry presents and trusts (undici `connect` options). */
export interface RegistryTls {
  /** Node's bundled roots plus the extra CAs; undefined when there are no extras (Node's default trust). */
  ca?: readonly string[] | undefined;
  /** Client certificate and key (PEM) from `certs.d/<host>/*.cert` + `*.key`. */
  cert?: string | undefined;
  key?: string | undefined;
}

export interface TlsSources {
  /** PEM text of extra CAs trusted for every registry. */
  caCert?: string | Buffer | undefined;
  /** Files of extra CAs trusted for every registry (`--ca-cert`). */
  caCertFiles?: readonly string[] | undefined;
  /**
   * PEM text of extra CAs trusted for every registry, taken as Node takes `NODE_EXTRA_CA_CERTS`: unchecked (OpenSSL
   * skips a block it cannot read), so that a registry spoken to over plain HTTP costs nothing.
   */
  extraCaCerts?: string | undefined;
  /** Directories holding `<host:port>/ca.crt` (docker, containers and containerd read this layout). */
  certsDirs?: readonly string[] | undefined;
}

/**
 * Collects the TLS material for `registry`: every `*.crt` in `<dir>/<registry>/` is a CA (as Docker
 * reads them), a `*.cert` with the `*.key` of the same name is the client certificate.
 * @throws LKVOL_USAGE when a file is not PEM certificates or a `.cert` has no `.key`; LKVOL_IO when one cannot be read.
 */
export async function loadRegistryTls(registry: string, src: TlsSources): Promise<RegistryTls> {
  const shared = await sharedTrust(src);
  const extras: string[] = [];
  const out: RegistryTls = {};
  for (const dir of src.certsDirs ?? []) {
    const hostDir = join(dir, registry);
    const names = await listDir(hostDir);
    for (const name of names.filter((n) => n.endsWith('.crt')))
      extras.push(...splitCertificates(await readText(join(hostDir, name)), join(hostDir, name)));
    const certName = names.find((n) => n.endsWith('.cert'));
    if (certName !== undefined && out.cert === undefined) {
      const keyName = certName.replace(/\.cert$/, '.key');
      if (!names.includes(keyName))
        throw new LkvolError('LKVOL_USAGE', `${join(hostDir, certName)}: client certificate without ${keyName}`, {
          hint: `put its key in ${join(hostDir, keyName)}`,
        });
      out.cert = await readText(join(hostDir, certName));
      out.key = await readText(join(hostDir, keyName));
    }
  }
  if (extras.length > 0) out.ca = [...(shared ?? rootCertificates), ...extras];
  else if (shared !== undefined) out.ca = shared;
  return out;
}

/** The PEM certificates in `text`, each checked by parsing it. */
function splitCertificates(text: string, where: string): string[] {
  const blocks = pemBlocks(text);
  const invalid = () =>
    new LkvolError('LKVOL_USAGE', `${where}: not a PEM file of CA certificates`, {
      hint: 'give a file with one or more "-----BEGIN CERTIFICATE-----" blocks',
    });
  if (blocks.length === 0) throw invalid();
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw invalid();
    }
  }
  return blocks;
}

/** Each TlsSources' trust for every registry, read once: registries without CAs of their own share one list. */
const sharedLists = new WeakMap<TlsSources, Promise<readonly string[] | undefined>>();

/**
 * Node's roots and the CAs trusted for every registry; undefined when there are none (Node's default trust). Node's
 * `ca` replaces its default roots, so they are kept: --ca-cert adds trust, it must not remove Docker Hub's.
 */
function sharedTrust(src: TlsSources): Promise<readonly string[] | undefined> {
  let list = sharedLists.get(src);
  if (list === undefined) {
    list = (async () => {
      const extras: string[] = [];
      if (src.caCert !== undefined) extras.push(...splitCertificates(src.caCert.toString(), 'the caCert option'));
      for (const file of src.caCertFiles ?? []) extras.push(...splitCertificates(await readText(file), file));
      if (src.extraCaCerts !== undefined) extras.push(...pemBlocks(src.extraCaCerts));
      return extras.length === 0 ? undefined : [...rootCertificates, ...extras];
    })();
    sharedLists.set(src, list);
  }
  return list;
}

/** The PEM certificate blocks of `text`, as they are. */
function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw wrapError(err, 'LKVOL_IO', {
      message: `read TLS file ${path}`,
      hint: 'check the path given with --ca-cert or in the certs directory',
    });
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw wrapError(err, 'LKVOL_IO', `read certs directory ${dir}`);
  }
}
