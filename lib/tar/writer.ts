// Writing small tar archives lkvol makes itself (PAX, through tar-stream): never used to read.
import { pack } from 'tar-stream';

/** One member: tar-stream's header fields (name, type, mode, uid, gid, mtime, linkname, size) and its data. */
export interface TarWriteEntry {
  header: Parameters<ReturnType<typeof pack>['entry']>[0];
  content?: string | Buffer;
}

/** The archive of `entries`, in order, in memory: for archives of a few KiB (see lib/build/skeleton.ts). */
export function packTar(entries: readonly TarWriteEntry[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    // tar-stream's pack is a streamx Readable: read it through its events.
    tar.on('data', (c: unknown) => chunks.push(c as Buffer));
    tar.on('end', () => resolve(Buffer.concat(chunks)));
    tar.on('error', reject);
  });
  for (const e of entries) tar.entry(e.header, e.content ?? '');
  tar.finalize();
  return done;
}
