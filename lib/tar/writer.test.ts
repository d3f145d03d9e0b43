// Tests of the tar writer against a stream that pushes back: listeners, errors, and what a reader gets.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { TarReader } from './reader.js';
import { createTarWriter } from './writer.js';

/** A Writable that takes a tick per chunk and holds little, so nearly every write waits for 'drain'. */
function slowSink(chunks: Buffer[], fail?: { afterWrites: number; error: Error }): Writable {
  let writes = 0;
  return new Writable({
    highWaterMark: 64,
    write(chunk: Buffer, _encoding, callback) {
      writes++;
      chunks.push(chunk);
      setImmediate(() => callback(fail !== undefined && writes >= fail.afterWrites ? fail.error : null));
    },
  });
}

async function* bytes(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

test('a long tar into a stream that pushes back leaves no listener behind and warns of nothing', async (t) => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const chunks: Buffer[] = [];
  const sink = slowSink(chunks);
  const tar = createTarWriter(sink);
  // The writer's own, for the stream's life; none more per wait.
  const errorListeners = sink.listenerCount('error');
  for (let i = 0; i < 200; i++)
    await tar.add({ name: `f${i}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, `content ${i}\n`);
  assert.equal(sink.listenerCount('error'), errorListeners, 'every wait for drain removed its listeners');
  await tar.finish();
  // Warnings are emitted on the next tick.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(warnings, []);
  const names: string[] = [];
  for await (const m of new TarReader(bytes(Buffer.concat(chunks))).members()) {
    names.push(m.header.name);
    for await (const _ of m.body);
  }
  assert.deepEqual(
    names,
    Array.from({ length: 200 }, (_, i) => `f${i}`),
  );
});

test('a stream that fails while the writer waits for it: add() rejects with its error', async () => {
  const error = new Error('disk full');
  const tar = createTarWriter(slowSink([], { afterWrites: 3, error }));
  await assert.rejects(async () => {
    for (let i = 0; i < 200; i++)
      await tar.add({ name: `f${i}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, `content ${i}\n`);
  }, error);
});

test('a stream that fails on a write that did not push back: the next add() rejects, nothing goes unhandled', async () => {
  const error = new Error('disk full');
  let writes = 0;
  // Room for everything (no 'drain' to wait for); the second write fails a moment later.
  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(_chunk: Buffer, _encoding, callback) {
      const fail = ++writes === 2;
      setImmediate(() => callback(fail ? error : null));
    },
  });
  const tar = createTarWriter(sink);
  await tar.add({ name: 'a', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, 'a\n');
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  await assert.rejects(tar.add({ name: 'b', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0 }, 'b\n'), error);
  await assert.rejects(tar.finish(), error);
});
