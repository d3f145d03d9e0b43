// Turns BuildEvents into progress on stderr: a redrawn status line on a TTY, plain lines otherwise, NDJSON with --json.
import type { BuildEvent, EventSink } from '../../lib/index.js';

export type ProgressMode = 'tty' | 'plain' | 'json' | 'none';

export interface ProgressWriter {
  write(s: string): unknown;
}

/** Picks the mode: -q or `--progress none` → none; --json → NDJSON; `--progress plain`, CI or not a TTY → plain; else the TTY line. */
export function chooseProgressMode(o: { progress: string | undefined; json: boolean; quiet: boolean; isTTY: boolean; ci: boolean }): ProgressMode {
  if (o.quiet || o.progress === 'none') return 'none';
  if (o.json) return 'json';
  if (o.progress === 'plain' || o.ci || !o.isTTY) return 'plain';
  return 'tty';
}

/** Creates the sink the CLI hands to lib as `onEvent`. Warnings are shown in every mode but none. */
export function createProgress(mode: ProgressMode, err: ProgressWriter): EventSink & { finish(): void } {
  let statusShown = false;
  const clear = () => {
    if (statusShown) err.write('\r\x1b[K');
    statusShown = false;
  };
  const sink = (e: BuildEvent) => {
    if (mode === 'none') return;
    if (mode === 'json') {
      err.write(JSON.stringify({ event: e.kind, ...e }) + '\n');
      return;
    }
    if (e.kind === 'blob-progress') {
      if (mode !== 'tty') return;
      err.write(`\r\x1b[K${short(e.digest)} ${size(e.bytes)} / ${size(e.size)}`);
      statusShown = true;
      return;
    }
    const line = describe(e);
    if (line === undefined) return;
    clear();
    err.write(line + '\n');
  };
  return Object.assign(sink, { finish: clear });
}

function describe(e: BuildEvent): string | undefined {
  switch (e.kind) {
    case 'pinned':
      return `pinned ${e.image} → ${short(e.digest)} by ${e.lock}`;
    case 'resolve':
      return `resolved ${e.image} → ${short(e.digest)}`;
    case 'blob-done':
      return e.cached ? undefined : `pulled ${short(e.digest)} (${size(e.size)})`;
    case 'volume-start':
      return `volume ${e.volume}: ${e.image === undefined ? 'blank' : `unpacking ${e.image}`}`;
    case 'layer-applied':
      return `${'volume' in e ? `volume ${e.volume}` : e.bundle}: layer ${e.index + 1}/${e.count} ${short(e.digest)}`;
    case 'rootfs-start':
      return `${e.bundle}: unpacking ${e.image}`;
    case 'rootfs-done':
      return `${e.bundle}: ${e.reused ? 'unchanged, reused: ' : ''}${e.files} files, ${size(e.bytes)}`;
    case 'volume-done':
      return `volume ${e.volume}: ${e.reused ? 'unchanged, reused: ' : ''}${e.files} files, ${size(e.bytes)}`;
    case 'spec-written':
      return `wrote ${e.path}`;
    case 'warning':
      return `warning: ${e.message}`;
    case 'done':
      return `built ${e.out}`;
    default:
      return undefined;
  }
}

function short(digest: string): string {
  return digest.slice(0, 19);
}

/** `512 B`, `3.4 KiB`, `12.0 MiB`, `1.2 GiB`. */
export function size(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}
