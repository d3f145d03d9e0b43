// Device nodes and FIFOs: made with coreutils mknod (Node has no mknod), only where the kernel permits.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, lchownSync, lstatSync, lutimesSync } from 'node:fs';
import { childProcess } from '../internal/builtin.js';
import type { LayerEntry } from './entries.js';

/** A device or FIFO of the image that is not on disk (recorded in lkvol.json by the build). */
export interface SkippedEntry {
  /** Resolved path below the root, `/`-separated. */
  path: string;
  kind: 'char' | 'block' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  devmajor: number;
  devminor: number;
  /** Whole seconds since the epoch, as the layer dates it (a tar output writes it). */
  mtime: number;
}

/** Options of {@link createSpecial}. */
export interface CreateSpecialOptions {
  /** Running as root: devices may be created and owners applied. */
  privileged: boolean;
  /** The layer's shell that runs mknod. */
  nodes: NodeMaker;
}

/**
 * Creates a FIFO (always permitted) or a device node (only when privileged) at `path`, whose parent
 * is a real directory inside the root and where nothing exists any more. mknod never follows or
 * replaces an existing name, so it cannot write through a symlink. Then owner, mode (after chown,
 * which clears setuid) and times, as for files.
 * @returns false when the node was not created: a device without privilege, or a kernel that
 *   refuses mknod (EPERM in a user namespace); the caller records it. Throws what mknod reports otherwise.
 */
export async function createSpecial(path: string, entry: LayerEntry, o: CreateSpecialOptions): Promise<boolean> {
  if (entry.kind !== 'fifo' && !o.privileged) return false;
  const args =
    entry.kind === 'fifo'
      ? [path, 'p']
      : [path, entry.kind === 'char' ? 'c' : 'b', String(entry.devmajor), String(entry.devminor)];
  const failure = await o.nodes.mknod(args);
  if (failure !== undefined) {
    if (/Operation not permitted/.test(failure)) return false;
    throw new Error(`mknod ${entry.kind}: ${failure}`);
  }
  if (!lstatSync(path).isFIFO() && entry.kind === 'fifo') throw new Error('mknod did not create a FIFO');
  if (o.privileged) lchownSync(path, entry.uid, entry.gid);
  // The node was just created by name under a resolved parent, so chmod (which follows links) reaches it.
  chmodSync(path, o.privileged ? entry.mode : entry.mode & ~0o6000);
  lutimesSync(path, entry.mtime, entry.mtime);
  return true;
}

/**
 * One `sh` that runs a layer's mknod commands in turn, started at the first: a fork of this process (a large
 * address space) costs ~4–5 ms per node on the main thread, the shell's own fork ~1 ms on another core
 * (a Debian image has 8 nodes). Each command ends with a line of a random marker and mknod's status, so a
 * path in mknod's message cannot pass for the end. `close` ends the shell (at the end of the layer).
 */
export class NodeMaker {
  readonly #marker = randomBytes(16).toString('hex');
  #shell: ChildProcess | undefined;
  #output = '';
  #failed: Error | undefined;
  #waiting: (() => void) | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /** Runs `mknod -m 0600 -- ARGS` (C locale); undefined when it succeeded, else what it printed. */
  mknod(args: readonly string[]): Promise<string | undefined> {
    const run = this.#queue.then(() => this.#run(args));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.#shell?.stdin?.end();
    this.#shell = undefined;
  }

  async #run(args: readonly string[]): Promise<string | undefined> {
    const shell = this.#start();
    // LC_ALL=C: a refusal is recognised by mknod's message, which locales translate.
    const command = ['LC_ALL=C', 'mknod', '-m', '0600', '--', ...args.map(shellQuote)].join(' ');
    shell.stdin!.write(`${command} 2>&1; printf '\\n%s %s\\n' ${this.#marker} $?\n`);
    for (;;) {
      if (this.#failed !== undefined) throw this.#failed;
      const end = new RegExp(`\\n${this.#marker} (\\d+)\\n`).exec(this.#output);
      if (end !== null) {
        const said = this.#output.slice(0, end.index).trim();
        this.#output = this.#output.slice(end.index + end[0].length);
        return end[1] === '0' ? undefined : said || `exit status ${end[1]}`;
      }
      await new Promise<void>((resolve) => (this.#waiting = resolve));
    }
  }

  #start(): ChildProcess {
    if (this.#shell !== undefined) return this.#shell;
    // PATH is the host's, never the image's: sh and mknod are found as any command lkvol runs.
    // Its own process group: a Ctrl-C at the terminal is lkvol's to handle. The shell ends at EOF on its
    // stdin, also when lkvol dies.
    const shell = childProcess().spawn('sh', [], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    const wake = () => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.();
    };
    shell.stdout!.setEncoding('utf8');
    shell.stdout!.on('data', (text: string) => {
      this.#output += text;
      wake();
    });
    const fail = (err: Error) => {
      this.#failed ??= err;
      wake();
    };
    shell.on('error', fail);
    shell.on('exit', (code, signal) => fail(new Error(`sh for mknod exited (${signal ?? `status ${code}`})`)));
    shell.stdin!.on('error', fail);
    this.#shell = shell;
    return shell;
  }
}

/** `arg` as one word of sh: single-quoted, each `'` closed, escaped and reopened. Paths hold no NUL. */
function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The record of a device or FIFO left out. */
export function skippedEntry(path: string, entry: LayerEntry): SkippedEntry {
  const kind = entry.kind === 'char' || entry.kind === 'block' ? entry.kind : 'fifo';
  return {
    path,
    kind,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    devmajor: entry.devmajor,
    devminor: entry.devminor,
    mtime: Math.floor(entry.mtime),
  };
}
