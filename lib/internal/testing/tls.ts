// Test helper: a throwaway CA with server and client certificates for 127.0.0.1/localhost, made by openssl.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** P-256 keys: a fraction of RSA's generation time, and both Go and Node accept them. */
const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A certificate and its key, as file paths and PEM text. */
export interface KeyPair {
  cert: string;
  key: string;
  certPem: string;
  keyPem: string;
}

export interface TestPki {
  dir: string;
  /** The CA (its certificate is what `--ca-cert` trusts). */
  ca: KeyPair;
  /** Server certificate for IP 127.0.0.1 and DNS localhost, signed by the CA. */
  server: KeyPair;
  /** Client certificate (extendedKeyUsage clientAuth), signed by the CA. */
  client: KeyPair;
  /** Removes every file. */
  remove(): Promise<void>;
}

/** Creates a CA and a server and client certificate in a temp dir (about 100 ms). */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'lkvol-pki-'));
  try {
    const ca = await createSelfSigned(dir, 'ca', {
      commonName: 'lkvol test CA',
      extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'],
    });
    const server = await issue(dir, ca, 'server', [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'extendedKeyUsage=serverAuth',
    ]);
    const client = await issue(dir, ca, 'client', ['extendedKeyUsage=clientAuth']);
    return { dir, ca, server, client, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A self-signed certificate `<name>.crt` + `<name>.key` in `dir` with the given v3 extensions. */
export async function createSelfSigned(
  dir: string,
  name: string,
  { commonName, extensions = [] }: { commonName: string; extensions?: string[] },
): Promise<KeyPair> {
  const paths = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const ext = extensions.flatMap((e) => ['-addext', e]);
  await run('openssl', [
    'req',
    '-x509',
    ...newKey,
    '-keyout',
    paths.key,
    '-out',
    paths.cert,
    '-subj',
    `/CN=${commonName}`,
    '-days',
    '2',
    ...ext,
  ]);
  return withPem(paths);
}

async function issue(dir: string, ca: KeyPair, name: string, extensions: string[]): Promise<KeyPair> {
  const paths = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  await writeFile(extFile, ['basicConstraints=CA:FALSE', ...extensions].join('\n') + '\n');
  await run('openssl', [
    'req',
    '-new',
    ...newKey,
    '-keyout',
    paths.key,
    '-out',
    csr,
    '-subj',
    `/CN=lkvol test ${name}`,
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    paths.cert,
    '-days',
    '2',
    '-extfile',
    extFile,
  ]);
  return withPem(paths);
}

async function withPem(paths: { cert: string; key: string }): Promise<KeyPair> {
  return { ...paths, certPem: await readFile(paths.cert, 'utf8'), keyPem: await readFile(paths.key, 'utf8') };
}
