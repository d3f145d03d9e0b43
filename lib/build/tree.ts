// Summarises an extracted tree for lkvol.json: entry count, bytes and a content digest.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../digest/index.js';

export interface TreeSummary {
  /** Entries other than directories (regular files, symlinks, hardlinks, others). */
  files: number;
  /** Bytes of regular-file content, each inode counted once. */
  bytes: number;
  /**
   * sha256 over one line per entry in byte order of path: path, type, mode, uid, gid, then the
   * content digest, link target or first name of the inode. Times are left out: they do not change
   * what a container sees, and the tree digest should only move when content or metadata does.
   */
  digest: Digest;
}

/** Walks `root` (never following symlinks) and summarises it. Throws the fs error as is. */
export async function summarizeTree(root: string): Promise<TreeSummary> {
  const hash = createHash('sha256');
  const inodes = new Map<string, string>();
  let files = 0;
  let bytes = 0;
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort(compareBytes);
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(join(root, path));
      const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid} ${st.gid}`;
      if (st.isDirectory()) {
        hash.update(`${path}\0dir\0${meta}\n`);
        await walk(path);
        continue;
      }
      files++;
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? inodes.get(key) : undefined;
      if (first !== undefined) {
        hash.update(`${path}\0link\0${first}\n`);
      } else if (st.isSymbolicLink()) {
        hash.update(`${path}\0symlink\0${meta}\0${await readlink(join(root, path))}\n`);
      } else if (st.isFile()) {
        bytes += st.size;
        hash.update(`${path}\0file\0${meta}\0${await fileDigest(join(root, path))}\n`);
      } else {
        hash.update(`${path}\0other\0${meta}\0${st.rdev}\n`);
      }
      if (st.nlink > 1 && first === undefined) inodes.set(key, path);
    }
  };
  await walk('');
  return { files, bytes, digest: `sha256:${hash.digest('hex')}` as Digest };
}

async function fileDigest(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
