// The floor of a no-change rebuild in Node: the least any Node program must do to find a volume unchanged, timed like
// lkvol's rebuild. It asks the registry for the tag's digest (one HEAD, no ping, no auth) and lstat-s every entry of
// the tree meanwhile, and nothing else: no system file, no record, no fingerprint, no container. As with the pipe
// (pipe.ts), a measure of what this machine and runtime allow, not something lkvol could be.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runTimed, type TimedRun } from './timed.js';

/**
 * The program, written beside the run as a CommonJS file (no ES module loader; nothing compiled but itself).
 * Arguments: the image reference (a plain-HTTP loopback registry's host/repository:tag), the tree, and its expected
 * entry count: a walk that found another count is no result, and exits 1.
 */
const program = `
const { lstatSync, readdirSync } = require('node:fs');
const { request } = require('node:http');
const [ref, tree, expected] = process.argv.slice(2);
const slash = ref.indexOf('/');
const colon = ref.lastIndexOf(':');
const [hostname, port] = ref.slice(0, slash).split(':');
const fail = (message) => { console.error(message); process.exit(1); };
const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';
const path = '/v2/' + ref.slice(slash + 1, colon) + '/manifests/' + ref.slice(colon + 1);
const req = request({ hostname, port, method: 'HEAD', path, headers: { accept } }, (res) => {
  res.resume();
  if (res.statusCode !== 200 || !res.headers['docker-content-digest']) fail('HEAD ' + ref + ': ' + res.statusCode);
});
req.on('error', (err) => fail('HEAD ' + ref + ': ' + err.message));
req.end();
// While the registry answers: the walk.
let entries = 0;
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    entries++;
    if (lstatSync(dir + '/' + name).isDirectory()) walk(dir + '/' + name);
  }
};
walk(tree);
if (entries !== Number(expected)) fail(tree + ': ' + entries + ' entries, expected ' + expected);
`;

/** Runs the floor against `ref` and `tree` (which holds `entries` entries, its root left out) from `cwd`, timed. */
export async function runFloor(o: {
  what: string;
  ref: string;
  tree: string;
  entries: number;
  cwd: string;
}): Promise<TimedRun> {
  const file = join(o.cwd, 'no-change-floor.cjs');
  await writeFile(file, program);
  return runTimed(process.execPath, [file, o.ref, o.tree, String(o.entries)], { what: o.what, cwd: o.cwd });
}
