// Writes the synthetic image's layers (synthetic-plan.ts) as gzip blobs, streaming: file content is
// generated chunk by chunk while the tar is gzipped, so 500 MB never sit in memory.
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buildTar } from '../tar.js';
import { binaryChunks, contentBytes } from './content.js';
import { writeLayerFile, type LayerFile } from './layer-file.js';
import { log, mib } from './log.js';
import { planSyntheticImage, type SyntheticEntry } from './synthetic-plan.js';

/** Cache key: bump the version whenever the plan or the content changes. */
export const syntheticImageKey = 'synthetic-v1';

const inMemoryLimit = 1 << 20;
const block = 512;

/** Generates the four layers into `dir` and returns their blobs. */
export async function generateSyntheticImage(dir: string): Promise<LayerFile[]> {
  const layers: LayerFile[] = [];
  for (const [i, entries] of planSyntheticImage().entries()) {
    const file = `layer-${i}.tar.gz`;
    const written = await writeLayerFile(Readable.from(tarChunks(entries)), join(dir, file));
    log(
      `  synthetic layer ${i + 1}/4: ${entries.length} entries, ${mib(written.tarSize)} tar, ${mib(written.size)} gzip`,
    );
    layers.push({ file, ...written });
  }
  return layers;
}

/** The tar archive of `entries`: headers from the test tar builder, large contents streamed after theirs. */
async function* tarChunks(entries: readonly SyntheticEntry[]): AsyncGenerator<Buffer> {
  for (const { content, ...header } of entries) {
    if (content === undefined || content.size < inMemoryLimit) {
      yield await buildTar([{ ...header, ...(content === undefined ? {} : { content: contentBytes(content) }) }], {
        endMarker: false,
      });
      continue;
    }
    // A header declaring the size without content, then the content, then the padding to a block.
    yield await buildTar([{ ...header, size: content.size }], { endMarker: false });
    yield* binaryChunks(content);
    yield Buffer.alloc((block - (content.size % block)) % block);
  }
  yield Buffer.alloc(2 * block);
}
