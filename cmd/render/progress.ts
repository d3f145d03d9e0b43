// Turns BuildEvents into progress on stderr: a redrawn status line on a TTY, plain lines otherwise, NDJSON with --json.
import type { BuildEvent, EventSink } from '../../lib/index.js';
import { size } from './size.js';
import { createSummary } from './summary.js';

export { size };

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

/** JSON progress: a layer's byte counts at most this often (state changes always go out). */
export const jsonProgressIntervalMs = 250;

/**
 * Creates the sink the CLI hands to lib as `onEvent`. Warnings are shown in every mode, `none` (-q)
 * included: quiet hides progress, never a warning. `now` is the clock JSON throttling reads.
 */
export function createProgress(mode: ProgressMode, err: ProgressWriter, o: { now?: () => number; rootfs?: boolean } = {}): EventSink & { finish(): void } {
  const now = o.now ?? Date.now;
  const summary = createSummary(now);
  let statusShown = false;
  const clear = () => {
    if (statusShown) err.write('\r\x1b[K');
    statusShown = false;
  };
  /** When each blob's last `blob-progress` went out (JSON). */
  const lastProgress = new Map<string, number>();
  const sink = (e: BuildEvent) => {
    if (mode === 'none') {
      if (e.kind === 'warning') err.write(`warning: ${e.message}\n`);
      return;
    }
    if (mode === 'json') {
      if (e.kind === 'blob-progress') {
        const t = now();
        const last = lastProgress.get(e.digest);
        if (last !== undefined && t - last < jsonProgressIntervalMs && e.bytes < e.size) return;
        lastProgress.set(e.digest, t);
      }
      const { kind, ...fields } = e;
      err.write(JSON.stringify({ event: kind, ...fields }) + '\n');
      return;
    }
    if (e.kind === 'blob-progress') {
      if (mode !== 'tty') return;
      err.write(`\r\x1b[K${short(e.digest)} ${size(e.bytes)} / ${size(e.size)}`);
      statusShown = true;
      return;
    }
    summary.note(e);
    const line = describe(e);
    if (line === undefined) return;
    clear();
    err.write(line + '\n');
    if (e.kind === 'done') err.write(`${summary.lines({ rootfs: o.rootfs === true }).join('\n')}\n`);
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
    case 'ignored':
      return undefined;
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

