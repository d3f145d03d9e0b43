// Checks a blob response before its bytes are used: status, Content-Length and, on resume, Content-Range.
import { DigestMismatchError, RegistryError } from '../errors.js';
import type { RegistryResponse } from './transport.js';

/** Where a blob response must start and how large the blob is. */
export interface BlobWindow {
  /** 0 for the first request; the bytes already taken for a `Range: bytes=N-` resume. */
  offset: number;
  size: number;
  subject: string;
}

/**
 * Accepts a 200 for a request from offset 0, and only a 206 with `Content-Range: bytes N-(size-1)/size`
 * (or `/*`) for a resume from N (RFC 9110 §14.4; containers/image checks the same). A Content-Length that
 * disagrees with what is expected fails before any byte is read.
 * @throws LKVOL_DIGEST_MISMATCH for a first response whose Content-Length is not the descriptor size;
 * LKVOL_REGISTRY_UNAVAILABLE (temporary: a fetch from the start may work) for a resume the server did not honour.
 */
export function checkBlobResponse(res: RegistryResponse, w: BlobWindow): void {
  const length = header(res, 'content-length');
  if (w.offset === 0) {
    if (length !== undefined && Number(length) !== w.size) {
      throw new DigestMismatchError({
        subject: w.subject,
        expected: `${w.size} bytes`,
        actual: `Content-Length ${length}`,
        bytesRead: 0,
        reason: 'size mismatch',
      });
    }
    return;
  }
  const refuse = (why: string) =>
    new RegistryError(
      'LKVOL_REGISTRY_UNAVAILABLE',
      `${w.subject}: ${res.ctx.request}: cannot resume at byte ${w.offset}: ${why}`,
      {
        status: res.status,
        method: res.ctx.method,
        url: res.ctx.url,
        temporary: true,
        hint: 'retry; the download starts again from the first byte',
      },
    );
  if (res.status !== 206) throw refuse(`the server answered ${res.status}, not 206 Partial Content`);
  const range = header(res, 'content-range');
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range ?? '');
  if (
    m === null ||
    Number(m[1]) !== w.offset ||
    Number(m[2]) !== w.size - 1 ||
    (m[3] !== '*' && Number(m[3]) !== w.size)
  ) {
    throw refuse(`Content-Range ${JSON.stringify(range ?? '')} is not bytes ${w.offset}-${w.size - 1}/${w.size}`);
  }
  if (length !== undefined && Number(length) !== w.size - w.offset)
    throw refuse(`Content-Length ${length} is not ${w.size - w.offset}`);
}

function header(res: RegistryResponse, name: string): string | undefined {
  const v = res.headers[name];
  return typeof v === 'string' ? v.slice(0, 100) : undefined;
}
