// The few lines a build ends with: what happened to each volume and root, what was fetched, how long it
// took, and what lkvol did not build on purpose (so a LinuxKit user knows what this tool did not do).
import type { BuildEvent } from '../../lib/index.js';
import { size } from './size.js';

export interface Summary {
  /** Takes every event of the build. */
  note(e: BuildEvent): void;
  /** The summary, one fact per line; `rootfs`: whether container images were unpacked. */
  lines(o: { rootfs: boolean }): string[];
}

export function createSummary(now: () => number = Date.now): Summary {
  const started = now();
  const trees = new Map<string, string>();
  const fetched = { blobs: 0, bytes: 0, cached: 0 };
  const ignored: string[] = [];
  return {
    note(e) {
      switch (e.kind) {
        case 'volume-start':
          if (e.image === undefined) trees.set(`volume ${e.volume}`, 'blank');
          break;
        case 'volume-done':
          if (trees.get(`volume ${e.volume}`) !== 'blank') trees.set(`volume ${e.volume}`, `${e.reused ? 'reused' : 'extracted'} ${e.files} files, ${size(e.bytes)}`);
          break;
        case 'rootfs-done':
          trees.set(e.bundle, `${e.reused ? 'reused' : 'extracted'} ${e.files} files, ${size(e.bytes)}`);
          break;
        case 'blob-done':
          if (e.cached) fetched.cached++;
          else {
            fetched.blobs++;
            fetched.bytes += e.size;
          }
          break;
        case 'ignored':
          ignored.push(e.section);
          break;
        default:
          break;
      }
    },
    lines(o) {
      const seconds = ((now() - started) / 1000).toFixed(1);
      return [
        ...[...trees].map(([what, how]) => `  ${what}: ${how}`),
        `  downloaded ${fetched.blobs} blobs (${size(fetched.bytes)}), ${fetched.cached} from the cache; ${seconds} s`,
        ...(ignored.length === 0 ? [] : [`  not built: ${ignored.join(', ')} (LinuxKit's image sections; lkvol builds volumes and container specs)`]),
        ...(o.rootfs ? [] : ['  not unpacked: container images (pass --rootfs for bundles that run)']),
      ];
    },
  };
}
