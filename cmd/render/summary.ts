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
  /** Per tree, its layers; per layer, where its blob came from. */
  const layersOf = new Map<string, Set<string>>();
  const blobSource = new Map<string, 'cache' | 'download' | 'copy'>();
  const fetched = { blobs: 0, bytes: 0, cached: 0, copied: 0, copiedBytes: 0 };
  const said = { cache: ', from the cache', download: ', downloaded', copy: ', copied from a local image' } as const;
  const source = (tree: string): string => {
    const layers = [...(layersOf.get(tree) ?? [])].map((d) => blobSource.get(d));
    if (layers.length === 0 || layers.some((c) => c === undefined)) return '';
    const kinds = new Set(layers);
    if (kinds.size === 1) return said[layers[0]!];
    return kinds.has('cache') ? ', partly from the cache' : ', downloaded and copied';
  };
  const ignored: string[] = [];
  return {
    note(e) {
      switch (e.kind) {
        case 'volume-start':
          if (e.image === undefined && e.provisioner === undefined) trees.set(`volume ${e.volume}`, 'blank');
          break;
        case 'volume-done':
          if (trees.get(`volume ${e.volume}`) !== 'blank')
            trees.set(
              `volume ${e.volume}`,
              `${e.reused ? 'reused' : 'extracted'} ${e.files} files, ${size(e.bytes)}${e.reused ? '' : source(`volume ${e.volume}`)}`,
            );
          break;
        case 'rootfs-done':
          trees.set(
            e.bundle,
            `${e.reused ? 'reused' : 'extracted'} ${e.files} files, ${size(e.bytes)}${e.reused ? '' : source(e.bundle)}`,
          );
          break;
        case 'layer-start': {
          const tree = 'volume' in e ? `volume ${e.volume}` : e.bundle;
          layersOf.set(tree, (layersOf.get(tree) ?? new Set()).add(e.digest));
          break;
        }
        case 'blob-done':
          blobSource.set(e.digest, e.cached ? 'cache' : e.from !== undefined ? 'copy' : 'download');
          if (e.cached) fetched.cached++;
          else if (e.from !== undefined) {
            fetched.copied++;
            fetched.copiedBytes += e.size;
          } else {
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
        `  downloaded ${fetched.blobs} blobs (${size(fetched.bytes)}), ${fetched.cached} from the cache${fetched.copied === 0 ? '' : `, ${fetched.copied} copied from local images (${size(fetched.copiedBytes)})`}; ${seconds} s`,
        ...(ignored.length === 0
          ? []
          : [
              `  not built: ${ignored.join(', ')} (LinuxKit's image sections; lkvol builds volumes and container specs)`,
            ]),
        ...(o.rootfs ? [] : ['  not unpacked: container images (pass --rootfs for bundles that run)']),
      ];
    },
  };
}
