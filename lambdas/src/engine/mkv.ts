/**
 * A minimal Matroska writer for raw I420 frames with explicit timestamps: how the engine hands
 * FFmpeg one picture per still (variable frame rate) through a pipe. FFmpeg demuxes it with its own
 * Matroska reader; the pixels are frames we produced, never user bytes.
 *
 * Layout: EBML header, a Segment of unknown size (streaming), Info (1 tick = 1 µs), one video track
 * (`V_MS/VFW/FOURCC`, BITMAPINFOHEADER with fourcc I420 → FFmpeg's rawvideo), then one Cluster per
 * frame holding one key SimpleBlock.
 */

const TICK_NS = 1000; // TimecodeScale: 1 µs per tick

function vintSize(n: number, width = 8): Buffer {
  // Matroska variable-size integer with a fixed width (8 bytes fits any frame).
  const b = Buffer.alloc(width);
  let v = BigInt(n);
  for (let i = width - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  b[0]! |= 1 << (8 - width);
  return b;
}

function uintBytes(n: number): Buffer {
  let v = BigInt(n);
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  return Buffer.from(bytes);
}

function el(id: number, payload: Buffer): Buffer {
  const idBytes = uintBytes(id);
  return Buffer.concat([idBytes, vintSize(payload.length), payload]);
}

const uintEl = (id: number, n: number) => el(id, uintBytes(n));
const strEl = (id: number, s: string) => el(id, Buffer.from(s, 'ascii'));

/** Stream header: everything before the first frame. */
export function mkvHeader(width: number, height: number): Buffer {
  const ebml = el(
    0x1a45dfa3,
    Buffer.concat([uintEl(0x4286, 1), uintEl(0x42f7, 1), uintEl(0x42f2, 4), uintEl(0x42f3, 8), strEl(0x4282, 'matroska'), uintEl(0x4287, 4), uintEl(0x4285, 2)]),
  );
  const info = el(0x1549a966, Buffer.concat([uintEl(0x2ad7b1, TICK_NS), strEl(0x4d80, 'media-pipeline'), strEl(0x5741, 'media-pipeline')]));
  const bih = Buffer.alloc(40);
  bih.writeUInt32LE(40, 0);
  bih.writeInt32LE(width, 4);
  bih.writeInt32LE(height, 8);
  bih.writeUInt16LE(1, 12);
  bih.writeUInt16LE(12, 14);
  bih.write('I420', 16, 'ascii');
  bih.writeUInt32LE((width * height * 3) / 2, 20);
  const video = el(0xe0, Buffer.concat([uintEl(0xb0, width), uintEl(0xba, height)]));
  const track = el(
    0xae,
    Buffer.concat([uintEl(0xd7, 1), uintEl(0x73c5, 1), uintEl(0x83, 1), uintEl(0x9c, 0), strEl(0x86, 'V_MS/VFW/FOURCC'), el(0x63a2, bih), video]),
  );
  const tracks = el(0x1654ae6b, track);
  const segmentHead = Buffer.concat([uintBytes(0x18538067), Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]);
  return Buffer.concat([ebml, segmentHead, info, tracks]);
}

/** Bytes that precede a frame's pixels: a Cluster at `seconds` with one key SimpleBlock of `frameBytes`. */
export function mkvFrameHeader(seconds: number, frameBytes: number): Buffer {
  const ticks = Math.round((seconds * 1e9) / TICK_NS);
  const timecode = uintEl(0xe7, ticks);
  const blockHead = Buffer.from([0x81, 0x00, 0x00, 0x80]); // track 1, relative time 0, keyframe
  const blockSize = blockHead.length + frameBytes;
  const simpleBlockHead = Buffer.concat([Buffer.from([0xa3]), vintSize(blockSize), blockHead]);
  const clusterPayload = timecode.length + simpleBlockHead.length + frameBytes;
  return Buffer.concat([uintBytes(0x1f43b675), vintSize(clusterPayload), timecode, simpleBlockHead]);
}
