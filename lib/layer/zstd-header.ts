// zstd frame headers (RFC 8878 §3.1.1.1): how much memory a frame asks its decoder for.

/**
 * Largest window (or single-segment content size) lkvol decodes: libzstd's default limit
 * (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27). fzstd allocates the declared window up front, so without
 * this cap a 20-byte frame header could make it allocate 2 GiB.
 */
export const maxZstdWindow = 128 * 1024 * 1024;

/** The fields of a zstd frame header (RFC 8878 §3.1.1.1) that decide how much memory decoding needs. */
export interface FrameHeader {
  /** Bytes of the header, magic included. */
  size: number;
  /** Window size; for a single-segment frame, its content size. */
  window: number;
  singleSegment: boolean;
  checksum: boolean;
  dictionaryId: number;
}

/** Magic number of a zstd frame, read little-endian. */
export const frameMagic = 0xfd2fb528;
/** Block_Maximum_Size: no block holds more (RFC 8878 §3.1.1.2.3). */
export const blockMaxSize = 128 * 1024;
const dictionaryIdSizes = [0, 1, 2, 4] as const;
const contentSizeSizes = [0, 2, 4, 8] as const;

/**
 * Parses the header of a zstd frame at the start of `head` (magic included); `undefined` while
 * `head` is shorter than {@link frameHeaderSize} says. Checks nothing: `zstd-frames.ts` does.
 */
export function parseFrameHeader(head: Uint8Array): FrameHeader | undefined {
  const size = frameHeaderSize(head);
  if (size === undefined || head.length < size) return undefined;
  const d = head[4]!;
  const singleSegment = (d & 0x20) !== 0;
  const dictionarySize = dictionaryIdSizes[d & 3]!;
  const dictionaryAt = singleSegment ? 5 : 6;
  const contentAt = dictionaryAt + dictionarySize;
  const contentBytes = size - contentAt;
  // A 2-byte content size field stores size - 256 (RFC 8878 §3.1.1.1.4).
  const contentSize = readLittleEndian(head, contentAt, contentBytes) + (contentBytes === 2 ? 256 : 0);
  let window = contentSize;
  if (!singleSegment) {
    const base = 2 ** (10 + (head[5]! >> 3));
    window = base + (base / 8) * (head[5]! & 7);
  }
  return {
    size,
    window,
    singleSegment,
    checksum: (d & 4) !== 0,
    dictionaryId: readLittleEndian(head, dictionaryAt, dictionarySize),
  };
}

/** Header size told by the frame header descriptor (byte 4); undefined before it has arrived. */
export function frameHeaderSize(head: Uint8Array): number | undefined {
  if (head.length < 5) return undefined;
  const d = head[4]!;
  const singleSegment = (d & 0x20) !== 0;
  const contentFlag = d >> 6;
  const contentBytes = contentFlag === 0 ? (singleSegment ? 1 : 0) : contentSizeSizes[contentFlag]!;
  return 5 + (singleSegment ? 0 : 1) + dictionaryIdSizes[d & 3]! + contentBytes;
}

function readLittleEndian(b: Uint8Array, at: number, n: number): number {
  let v = 0;
  // Numbers, not BigInt: a value past 2^53 loses precision but still compares as far above any cap.
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[at + i]!;
  return v;
}
