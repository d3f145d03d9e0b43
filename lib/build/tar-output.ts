// Tar output (`-o OUT.tar`, `--format tar`, `-o -`): the built tree as one reproducible tar stream.
import { createReadStream, lstatSync, readlinkSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { throwIfCancelled } from '../internal/async.js';
import { compareBytes } from '../internal/compare.js';
import { readAppliedXattrs } from '../layer/index.js';
import { createTarWriter, type TarWriteHeader } from '../tar/index.js';
import type { BuildRecord, OwnershipRecord, SkippedRecord } from './record.js';
import { readable, readNames, withOwnerBits } from './tree.js';

/**
 * An image tree below the output (a volume's lower/, a bundle's root) and what its record says the disk could not hold.
 */
interface ImageTree {
  ownership: Map<string, OwnershipRecord>;
  /** Device nodes and FIFOs not created (not root), by parent directory (relative to the tree). */
  skipped: Map<string, SkippedRecord[]>;
}

/**
 * Writes the tree at `root` (a finished build: `containers/`, `lkvol.json`) to `out` as a tar stream:
 * entries in byte order of path, numeric owners, no user or group names. Image trees (volumes'
 * `lower/`, bundles' roots) keep their entries' owners, modes and mtimes as the layers give them —
 * from the record where the disk could not hold them (`ownership`, `skipped` devices and FIFOs), so
 * a build as an ordinary user gives the same bytes as one as root — with hardlinks as links and
 * applied xattrs as `SCHILY.xattr.*` PAX records. Everything lkvol synthesises (directories, specs,
 * lkvol.json, the trees' top directories) is owned by 0:0, mode 0755 or 0644, dated `epoch`.
 * @throws LKVOL_CANCELLED when `signal` aborts (checked between entries).
 */
export async function writeTreeTar(
  root: string,
  o: { record: BuildRecord; epoch: number; out: Writable; signal?: AbortSignal | undefined },
): Promise<void> {
  const { record, epoch, out } = o;
  const trees = imageTrees(record);
  const tar = createTarWriter(out);
  const mtime = epoch;
  const inodes = new Map<string, string>();
  const walk = async (rel: string, tree: { prefix: string; info: ImageTree } | undefined): Promise<void> => {
    const dir = join(root, rel);
    const onDisk = readNames(dir);
    // A directory the user may not read (0000, 0333 in a rootless build): open it for the walk of its whole subtree.
    if (onDisk === undefined) return withOwnerBits(dir, 0o500, () => walk(rel, tree));
    const inTree = tree === undefined ? undefined : rel === tree.prefix ? '' : rel.slice(tree.prefix.length + 1);
    const skipped = inTree === undefined ? undefined : tree?.info.skipped.get(inTree);
    const present = new Set(onDisk);
    const names = (
      skipped === undefined
        ? onDisk
        : [...onDisk, ...skipped.map((s) => s.path.split('/').at(-1)!).filter((n) => !present.has(n))]
    ).sort(compareBytes);
    for (const name of names) {
      // Ctrl-C between two entries (the largest file takes a fraction of a second to copy).
      throwIfCancelled(o.signal, 'write the tar');
      const path = rel === '' ? name : `${rel}/${name}`;
      const entered = tree ?? (trees.has(path) ? { prefix: path, info: trees.get(path)! } : undefined);
      if (tree === undefined) {
        // Synthesised by lkvol (the top of an image tree too): fixed owner, mode and date.
        const st = lstatSync(join(root, path));
        if (st.isDirectory()) {
          await tar.add({ name: `${path}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime });
          await walk(path, entered);
        } else {
          await tar.add(
            { name: path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime, size: st.size },
            createReadStream(join(root, path)),
          );
        }
        continue;
      }
      const treePath = inTree === '' ? name : `${inTree}/${name}`;
      const device = present.has(name) ? undefined : skipped?.find((s) => s.path === treePath);
      if (device !== undefined) {
        await tar.add(skippedHeader(path, device));
        continue;
      }
      const full = join(root, path);
      const st = lstatSync(full);
      const own = tree.info.ownership.get(treePath);
      const header = {
        name: st.isDirectory() ? `${path}/` : path,
        mode: own === undefined ? st.mode & 0o7777 : parseInt(own.mode, 8),
        uid: own?.uid ?? st.uid,
        gid: own?.gid ?? st.gid,
        mtime: Math.floor(st.mtimeMs / 1000),
      };
      const pax = readAppliedXattrs(full).map(([k, v]) => [`SCHILY.xattr.${k}`, v] as const);
      const inode = `${st.dev}:${st.ino}`;
      const first = !st.isDirectory() && st.nlink > 1 ? inodes.get(inode) : undefined;
      if (first !== undefined) {
        await tar.add({ ...header, type: 'link', linkname: first }, undefined, pax);
      } else if (st.isDirectory()) {
        await tar.add({ ...header, type: 'directory' }, undefined, pax);
        await walk(path, tree);
      } else if (st.isSymbolicLink()) {
        await tar.add({ ...header, type: 'symlink', mode: 0o777, linkname: readlinkSync(full) }, undefined, pax);
      } else if (st.isFile()) {
        // Opened first (a 0000 file of a rootless build for a moment with u+r): the header must not go out before the
        // data can.
        const handle = await readable(full, 0o400, (p) => open(p, 'r'));
        await tar.add({ ...header, type: 'file', size: st.size }, handle.createReadStream(), pax);
      } else {
        await tar.add({ ...header, ...special(st) }, undefined, pax);
      }
      if (!st.isDirectory() && st.nlink > 1 && first === undefined) inodes.set(inode, path);
    }
  };
  await walk('', undefined);
  await tar.finish();
}

/**
 * The record a tar carries as lkvol.json: without what describes a directory tree on the building host
 * (`ownership` and `skipped`, which the tar's headers hold; `inputs` and `fingerprint`, for reuse), so a
 * root and a rootless build give the same tar, lkvol.json included.
 */
export function recordInTar(record: BuildRecord): BuildRecord {
  const bare = <T extends { ownership?: unknown; skipped?: unknown; inputs?: unknown; fingerprint?: unknown }>(
    r: T,
  ): T => {
    const { ownership: _o, skipped: _s, inputs: _i, fingerprint: _f, ...rest } = r;
    return rest as T;
  };
  return {
    ...record,
    volumes: record.volumes.map(bare),
    containers: record.containers.map((c) => (c.rootfs === undefined ? c : { ...c, rootfs: bare(c.rootfs) })),
  };
}

/** The image trees of a build record, by path below the output. */
function imageTrees(record: BuildRecord): Map<string, ImageTree> {
  const trees = new Map<string, ImageTree>();
  const add = (
    path: string,
    r: { ownership?: OwnershipRecord[] | undefined; skipped?: SkippedRecord[] | undefined },
  ): void => {
    const skipped = new Map<string, SkippedRecord[]>();
    for (const s of r.skipped ?? []) {
      const parent = s.path.includes('/') ? s.path.slice(0, s.path.lastIndexOf('/')) : '';
      skipped.set(parent, [...(skipped.get(parent) ?? []), s]);
    }
    trees.set(path, { ownership: new Map((r.ownership ?? []).map((o) => [o.path, o])), skipped });
  };
  for (const v of record.volumes)
    if ((v.image !== null || v.provisioner !== undefined) && v.format === 'filesystem')
      add(`containers/volumes/${v.name}/lower`, v);
  for (const c of record.containers) if (c.rootfs?.contentDigest !== undefined) add(c.rootfs.path, c.rootfs);
  return trees;
}

function skippedHeader(path: string, s: SkippedRecord): TarWriteHeader {
  const type = s.type === 'char' ? 'character-device' : s.type === 'block' ? 'block-device' : 'fifo';
  return {
    name: path,
    type,
    mode: parseInt(s.mode, 8),
    uid: s.uid,
    gid: s.gid,
    mtime: s.mtime,
    devmajor: s.major,
    devminor: s.minor,
  };
}

/** A device node or FIFO as its stat gives it (Linux's encoding of `rdev`). */
function special(st: Stats): Pick<TarWriteHeader, 'type' | 'devmajor' | 'devminor'> {
  const rdev = BigInt(st.rdev);
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  if (st.isCharacterDevice()) return { type: 'character-device', devmajor: major, devminor: minor };
  if (st.isBlockDevice()) return { type: 'block-device', devmajor: major, devminor: minor };
  return { type: 'fifo', devmajor: 0, devminor: 0 };
}
