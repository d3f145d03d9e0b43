// Progress on a terminal, as docker pull shows it: a row per layer (short digest, bar, bytes, state) and an
// overall line (bytes, speed, ETA), redrawn in place at most 10 times a second; log lines scroll above it.
import type { BuildEvent } from '../../lib/index.js';
import { size } from './size.js';

export interface TtyOptions {
  /** Terminal width now (lines are cut to it, so nothing wraps and the redraw stays in place). */
  columns: () => number;
  now: () => number;
  /** ANSI colours (a TTY without NO_COLOR). */
  color: boolean;
  /** Schedules the next redraw; tests pass a manual clock. Default setTimeout. */
  schedule?: (fn: () => void, ms: number) => { cancel(): void };
}

/** Where a layer's blob is, and what is done with it (a layer is unpacked while it downloads). */
interface LayerRow {
  digest: string;
  size: number;
  bytes: number;
  fetch: 'waiting' | 'downloading' | 'downloaded' | 'cached';
  /** Copied from a local layout or archive rather than downloaded. */
  local: boolean;
  unpack: 'no' | 'extracting' | 'done';
  /** While extracting: entries and file bytes applied so far. */
  entries: number;
  applied: number;
}

type Shade = 'busy' | 'done';

/** Redraws at most this often. */
export const redrawIntervalMs = 100;

const colors: Record<Shade, string> = { busy: '33', done: '32' };

/**
 * The TTY renderer: `event` takes every event, `log` prints a line above the frame, `finish` leaves the last frame and
 * shows the cursor.
 */
export function createTtyRenderer(out: { write(s: string): unknown }, o: TtyOptions) {
  const schedule =
    o.schedule ??
    ((fn, ms) => {
      const t = setTimeout(fn, ms);
      return { cancel: () => clearTimeout(t) };
    });
  const rows = new Map<string, LayerRow>();
  const started = o.now();
  let drawnLines = 0;
  let pending: { cancel(): void } | undefined;
  let lastDraw = -Infinity;
  let finished = false;
  let cursorHidden = false;

  const paint = (text: string, shade: Shade): string => (o.color ? `\x1b[${colors[shade]}m${text}\x1b[0m` : text);
  const width = (): number => Math.max(20, o.columns() - 1);
  const fit = (line: string): string => (line.length <= width() ? line : `${line.slice(0, width() - 1)}…`);
  /** `aaaaaaaaaaaa [=====>    ] 3.0 MiB/8.0 MiB downloading`: the bar shrinks (or goes) before the state is cut. */
  const layerLine = (r: LayerRow): string => {
    const fetched = r.fetch === 'downloaded' || r.fetch === 'cached';
    const amount = fetched || r.size === 0 ? size(r.size) : `${size(r.bytes)}/${size(r.size)}`;
    const progress = r.entries > 0 ? ` ${r.entries} entries, ${size(r.applied)}` : '';
    // blob-done comes once the streaming digest check passed: the blob is verified, not just downloaded.
    const fetching = r.local ? 'copying' : 'downloading';
    const fetchState = r.fetch === 'downloaded' ? 'verified' : r.fetch === 'downloading' ? fetching : r.fetch;
    const state =
      r.unpack === 'done'
        ? 'done'
        : r.unpack === 'extracting' && r.fetch !== 'waiting'
          ? `${fetched ? 'extracting' : `${fetching}, extracting`}${progress}`
          : fetchState;
    const fixed = 12 + 1 + amount.length + 1 + state.length;
    const barWidth = Math.min(20, width() - fixed - 3);
    const shown = barWidth >= 5 ? ` ${bar(fetched ? r.size : r.bytes, r.size, barWidth)}` : '';
    const line = fit(`${r.digest.slice(7, 19)}${shown} ${amount} ${state}`);
    return line.endsWith(state)
      ? `${line.slice(0, -state.length)}${paint(state, r.unpack === 'done' || (r.unpack === 'no' && fetched) ? 'done' : 'busy')}`
      : line;
  };
  const frame = (): string[] => {
    const lines = [...rows.values()].map(layerLine);
    if (rows.size > 0) {
      let total = 0;
      let done = 0;
      for (const r of rows.values()) {
        if (r.fetch === 'cached') continue;
        total += r.size;
        done += r.fetch === 'downloaded' ? r.size : r.bytes;
      }
      const seconds = Math.max(0.001, (o.now() - started) / 1000);
      const speed = done / seconds;
      const eta = speed > 0 && total > done ? `, ETA ${Math.ceil((total - done) / speed)} s` : '';
      const cached = [...rows.values()].filter((r) => r.fetch === 'cached').length;
      lines.push(
        fit(
          `downloaded ${size(done)}/${size(total)} at ${size(Math.round(speed))}/s${eta}${cached > 0 ? `; ${cached} from the cache` : ''}`,
        ),
      );
    }
    return lines;
  };
  /** Moves to the first line of the frame and clears to the end of the screen. */
  const erase = (): void => {
    if (drawnLines > 0) out.write(`\r\x1b[${drawnLines}A\x1b[J`);
    drawnLines = 0;
  };
  const draw = (): void => {
    // Drawn now (a log line, the end): a redraw still scheduled would draw over what follows.
    pending?.cancel();
    pending = undefined;
    lastDraw = o.now();
    const lines = frame();
    if (!cursorHidden && lines.length > 0) {
      // Hidden only once there is a frame to redraw: a build that fails early leaves the cursor alone.
      out.write('\x1b[?25l');
      cursorHidden = true;
    }
    // One write per frame (erase and redraw together), so the terminal never shows it half drawn.
    const up = drawnLines > 0 ? `\r\x1b[${drawnLines}A\x1b[J` : '';
    if (up !== '' || lines.length > 0) out.write(`${up}${lines.map((l) => `${l}\n`).join('')}`);
    drawnLines = lines.length;
  };
  const request = (): void => {
    if (finished || pending !== undefined) return;
    const wait = Math.max(0, redrawIntervalMs - (o.now() - lastDraw));
    pending = schedule(draw, wait);
  };
  const row = (digest: string): LayerRow => {
    let r = rows.get(digest);
    if (r === undefined)
      rows.set(
        digest,
        (r = { digest, size: 0, bytes: 0, fetch: 'waiting', local: false, unpack: 'no', entries: 0, applied: 0 }),
      );
    return r;
  };

  return {
    event(e: BuildEvent): void {
      switch (e.kind) {
        case 'blob-start': {
          const r = row(e.digest);
          r.size = e.size;
          r.fetch = e.cached ? 'cached' : 'downloading';
          r.local = e.from !== undefined;
          break;
        }
        case 'blob-progress': {
          const r = row(e.digest);
          r.bytes = e.bytes;
          r.size = e.size;
          if (r.fetch === 'waiting') r.fetch = 'downloading';
          break;
        }
        case 'blob-done': {
          const r = row(e.digest);
          r.size = e.size;
          r.bytes = e.size;
          r.fetch = e.cached ? 'cached' : 'downloaded';
          break;
        }
        case 'layer-start':
          row(e.digest).unpack = 'extracting';
          break;
        case 'layer-progress': {
          const r = row(e.digest);
          r.entries = e.entries;
          r.applied = e.bytes;
          break;
        }
        case 'layer-applied':
          row(e.digest).unpack = 'done';
          break;
        default:
          return;
      }
      request();
    },
    log(line: string): void {
      erase();
      out.write(`${line}\n`);
      if (!finished) draw();
    },
    finish(): void {
      if (finished) return;
      pending?.cancel();
      pending = undefined;
      if (rows.size > 0) draw();
      finished = true;
      if (cursorHidden) out.write('\x1b[?25h');
    },
  };
}

function bar(done: number, total: number, width: number): string {
  const filled = total <= 0 ? width : Math.min(width, Math.floor((done / total) * width));
  return `[${'='.repeat(filled)}${filled < width ? '>' : ''}${' '.repeat(Math.max(0, width - filled - 1))}]`;
}
