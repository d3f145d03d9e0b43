// The reference a CI job would write instead of lkvol: `skopeo copy` into an OCI layout, then
// `umoci unpack` of it; both timed, as one run.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTimed, type TimedRun } from './timed.js';

/** A reference run: its time (both commands), the unpacked rootfs, and when umoci started (whole seconds). */
export interface ReferenceRun {
  run: TimedRun;
  rootfs: string;
  unpackStart: number;
}

/** Copies `ref` from the loopback registry into `dir/layout` and unpacks it into `dir/bundle`. */
export async function runReference(o: { ref: string; dir: string }): Promise<ReferenceRun> {
  // skopeo wants a signature policy; the test registry's images are unsigned.
  const policy = join(o.dir, 'policy.json');
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const layout = `${join(o.dir, 'layout')}:bench`;
  const copy = await runTimed(
    'skopeo',
    ['copy', '--quiet', '--policy', policy, '--src-tls-verify=false', `docker://${o.ref}`, `oci:${layout}`],
    { what: 'skopeo copy', cwd: o.dir },
  );
  const unpackStart = Math.floor(Date.now() / 1000);
  // Without root umoci cannot restore owners; --rootless is what an unprivileged CI job would use.
  const rootless = process.getuid?.() === 0 ? [] : ['--rootless'];
  const unpack = await runTimed('umoci', ['unpack', ...rootless, '--image', layout, join(o.dir, 'bundle')], {
    what: 'umoci unpack',
    cwd: o.dir,
  });
  return {
    run: { seconds: copy.seconds + unpack.seconds, peakRssKb: Math.max(copy.peakRssKb, unpack.peakRssKb) },
    rootfs: join(o.dir, 'bundle', 'rootfs'),
    unpackStart,
  };
}
