// Turns BuildEvents into progress on stderr: layer rows redrawn on a TTY (tty.ts), plain lines otherwise, NDJSON with
// --json.
import type { BuildEvent, EventSink } from '../../lib/index.js';
import { size } from './size.js';
import { createSummary } from './summary.js';
import { createTtyRenderer, type TtyOptions } from './tty.js';

export { size };

export type ProgressMode = 'tty' | 'plain' | 'json' | 'none';

export interface ProgressWriter {
  write(s: string): unknown;
}

/**
 * Picks the mode: -q or `--progress none` → none; --json → NDJSON; `--progress plain`, CI or not a TTY → plain; else
 * the TTY line.
 */
export function chooseProgressMode(o: {
  progress: string | undefined;
  json: boolean;
  quiet: boolean;
  isTTY: boolean;
  ci: boolean;
}): ProgressMode {
  if (o.quiet || o.progress === 'none') return 'none';
  if (o.json) return 'json';
  if (o.progress === 'plain' || o.ci || !o.isTTY) return 'plain';
  return 'tty';
}

/** A warning as a line of text, ended by its code as `validate` ends its own: scripts match on the code. */
export function warningLine(w: { code: string; message: string }): string {
  return `warning: ${w.message} (${w.code})`;
}

/** A BuildEvent as an NDJSON line (`--json` progress): `{"event": kind, ...fields}`. */
function jsonLine(e: BuildEvent): string {
  const { kind, ...fields } = e;
  return JSON.stringify({ event: kind, ...fields }) + '\n';
}

/**
 * The sink of commands that report warnings only (`inspect`, `lock`): each as a text line, or with --json as the
 * NDJSON line `build --json` writes for it.
 */
export function createWarningSink(err: ProgressWriter, json: boolean): EventSink {
  return (e) => {
    if (e.kind === 'warning') err.write(json ? jsonLine(e) : `${warningLine(e)}\n`);
  };
}

/** What the sink may be told about its surroundings. */
export interface ProgressOptions {
  now?: () => number;
  /** Whether container images are unpacked (for the summary). */
  rootfs?: boolean;
  /** TTY: the terminal's width now (default 80), colours, and the redraw timer (tests). */
  columns?: () => number;
  color?: boolean;
  schedule?: TtyOptions['schedule'];
}

/**
 * The TTY sink: layer rows and the overall line redrawn in place, log lines above them, the summary below the last
 * frame.
 */
function createTtyProgress(
  err: ProgressWriter,
  o: ProgressOptions & { now: () => number },
): EventSink & { finish(): void } {
  const summary = createSummary(o.now);
  const tty = createTtyRenderer(err, {
    columns: o.columns ?? (() => 80),
    now: o.now,
    color: o.color === true,
    ...(o.schedule === undefined ? {} : { schedule: o.schedule }),
  });
  const sink = (e: BuildEvent): void => {
    summary.note(e);
    tty.event(e);
    const line = describe(e);
    if (line === undefined) return;
    if (e.kind !== 'done') return tty.log(line);
    tty.finish();
    err.write(`${line}\n${summary.lines({ rootfs: o.rootfs === true }).join('\n')}\n`);
  };
  return Object.assign(sink, { finish: () => tty.finish() });
}

/** JSON progress: a blob's or layer's counts at most this often (state changes always go out). */
export const jsonProgressIntervalMs = 250;

/**
 * Creates the sink the CLI hands to lib as `onEvent`. Warnings are shown in every mode, `none` (-q)
 * included: quiet hides progress, never a warning. `now` is the clock JSON throttling reads.
 */
export function createProgress(
  mode: ProgressMode,
  err: ProgressWriter,
  o: ProgressOptions = {},
): EventSink & { finish(): void } {
  const now = o.now ?? Date.now;
  if (mode === 'tty') return createTtyProgress(err, { ...o, now });
  const summary = createSummary(now);
  /** When each blob's last `blob-progress` went out (JSON). */
  const lastProgress = new Map<string, number>();
  const sink = (e: BuildEvent) => {
    if (mode === 'none') {
      if (e.kind === 'warning') err.write(`${warningLine(e)}\n`);
      return;
    }
    if (mode === 'json') {
      if (e.kind === 'blob-progress' || e.kind === 'layer-progress') {
        const t = now();
        const key = `${e.kind} ${e.digest}`;
        const last = lastProgress.get(key);
        const final = e.kind === 'blob-progress' && e.bytes >= e.size;
        if (last !== undefined && t - last < jsonProgressIntervalMs && !final) return;
        lastProgress.set(key, t);
      }
      err.write(jsonLine(e));
      return;
    }
    if (e.kind === 'blob-progress' || e.kind === 'layer-progress') return;
    summary.note(e);
    const line = describe(e);
    if (line === undefined) return;
    err.write(line + '\n');
    if (e.kind === 'done') err.write(`${summary.lines({ rootfs: o.rootfs === true }).join('\n')}\n`);
  };
  return Object.assign(sink, { finish: () => {} });
}

function describe(e: BuildEvent): string | undefined {
  switch (e.kind) {
    case 'pinned':
      return `pinned ${e.image} → ${short(e.digest)} by ${e.lock}`;
    case 'resolve':
      return `resolved ${e.image} → ${short(e.digest)}`;
    case 'blob-done':
      return e.cached
        ? undefined
        : e.from !== undefined
          ? `copied ${short(e.digest)} (${size(e.size)}) from ${e.from}`
          : `pulled ${short(e.digest)} (${size(e.size)})`;
    case 'volume-start':
      return `volume ${e.volume}: ${e.provisioner !== undefined ? `running provisioner ${e.provisioner}` : e.image === undefined ? 'blank' : `unpacking ${e.image}`}`;
    case 'layer-start':
      return `${'volume' in e ? `volume ${e.volume}` : e.bundle}: layer ${e.index + 1}/${e.count} ${short(e.digest)}`;
    case 'ignored':
    case 'layer-progress':
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
      return warningLine(e);
    case 'done':
      return `built ${e.out}`;
    default:
      return undefined;
  }
}

function short(digest: string): string {
  return digest.slice(0, 19);
}
