// LinuxKit's ImageTar (moby/build/image.go) changes a container image as it puts it into a bundle; lkvol makes
// the same changes as one last layer of its own, so they go through the same confined extractor and bookkeeping.
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { packTar, type TarWriteEntry } from '../tar/index.js';

/** Part of a bundle root's reuse inputs: bump when what this layer writes changes. */
export const skeletonVersion = 1;

/** Names the extra layer in errors. */
export const skeletonLayerName = 'lkvol: LinuxKit container skeleton';

/** ImageTar's `defaultModTime` (moby/build/dir.go). */
const linuxkitTime = Date.UTC(2017, 3, 18, 16, 30, 0) / 1000;

/**
 * ImageTar's `exclude`: dropped from the image. It matches tar names, which end in `/` for directories, so only
 * non-directories go.
 */
const excluded = ['.dockerenv', 'Dockerfile', 'dev/console', 'dev/pts', 'dev/shm', 'etc/hostname'];

/** ImageTar's `replace`: always written with this content (found in the image or not, through its `touch` list). */
const replaced: Readonly<Record<string, string>> = {
  'etc/hosts':
    '127.0.0.1       localhost\n::1     localhost ip6-localhost ip6-loopback\nfe00::0 ip6-localnet\nff00::0 ip6-mcastprefix\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n',
  'etc/resolv.conf': '\n# no resolv.conf configured\n',
};

/** ImageTar's `touch` directories and link: added when the image lacks them. */
const touchedDirs = ['dev', 'dev/pts', 'dev/shm', 'etc', 'proc', 'sys'];
const touchedLinks: Readonly<Record<string, string>> = { 'etc/mtab': '/proc/mounts' };

/**
 * The layer that turns an unpacked image at `root` into what LinuxKit puts in a bundle: whiteouts for
 * the excluded files present, the missing mount-point directories and `etc/mtab`, and LinuxKit's
 * `etc/hosts` and `etc/resolv.conf`, owned by root and dated as LinuxKit dates them. Only looks at
 * `root` (without following links); what it writes is applied by the extractor like any layer.
 */
export async function containerSkeleton(root: string): Promise<Readable> {
  const entries: TarWriteEntry[] = [];
  const base = { uid: 0, gid: 0, mtime: linuxkitTime };
  for (const name of excluded) {
    const kind = await kindInside(root, name);
    // dev/pts and dev/shm are also mount points: the directory entry below replaces a non-directory.
    if (kind !== undefined && kind !== 'dir' && !touchedDirs.includes(name))
      entries.push({ header: { ...base, name: whiteoutOf(name), type: 'file', mode: 0o644 } });
  }
  const added: (TarWriteEntry & { name: string })[] = [];
  for (const name of touchedDirs)
    if ((await kindInside(root, name)) !== 'dir')
      added.push({ name, header: { ...base, name: `${name}/`, type: 'directory', mode: 0o755 } });
  for (const [name, target] of Object.entries(touchedLinks))
    if ((await kindInside(root, name)) === undefined)
      added.push({ name, header: { ...base, name, type: 'symlink', linkname: target, mode: 0o755 } });
  for (const [name, content] of Object.entries(replaced))
    added.push({ name, header: { ...base, name, type: 'file', mode: 0o644 }, content });
  added.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  entries.push(...added);
  return Readable.from(await packTar(entries));
}

function whiteoutOf(name: string): string {
  const slash = name.lastIndexOf('/');
  return `${name.slice(0, slash + 1)}.wh.${name.slice(slash + 1)}`;
}

/** The type of `root/rel` when every parent is a real directory, else undefined (the extractor decides then). */
async function kindInside(root: string, rel: string): Promise<'dir' | 'other' | undefined> {
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const st = await lstat(join(root, ...parts.slice(0, i))).catch(() => undefined);
    if (st === undefined) return undefined;
    if (i < parts.length && !st.isDirectory()) return undefined;
    if (i === parts.length) return st.isDirectory() ? 'dir' : 'other';
  }
  return undefined;
}
