/**
 * Just enough H.264 (Annex B, CAVLC, POC type 2) to turn a stream of unique pictures into a constant
 * frame rate stream by inserting "skip" pictures: P slices whose macroblocks are all P_Skip with
 * deblocking off, which decode to an exact copy of the previous picture. x264 then encodes each still
 * once instead of fps × seconds times. Only streams from our own x264 settings (`cabac=0`, `bframes=0`,
 * POC type 2) are handled; anything else throws. Several slices per picture are fine.
 */

/** RBSP ← NAL payload: drop emulation-prevention bytes (00 00 03 → 00 00). */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let o = 0;
  let zeros = 0;
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, o);
}

/** NAL payload ← RBSP: insert emulation-prevention bytes where 00 00 is followed by 00..03. */
export function escapeRbsp(rbsp: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(rbsp.length + Math.ceil(rbsp.length / 2) + 1);
  let o = 0;
  let zeros = 0;
  for (let i = 0; i < rbsp.length; i++) {
    const b = rbsp[i]!;
    if (zeros >= 2 && b <= 3) {
      out[o++] = 3;
      zeros = 0;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, o);
}

export class BitReader {
  pos = 0;
  constructor(private readonly data: Uint8Array) {}
  bit(): number {
    const byte = this.data[this.pos >> 3];
    if (byte === undefined) throw new Error('H.264: read past the end of a NAL unit');
    const v = (byte >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return v;
  }
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      zeros++;
      if (zeros > 31) throw new Error('H.264: bad Exp-Golomb code');
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : k === 0 ? 0 : -(k / 2);
  }
}

export class BitWriter {
  private readonly bytes: number[] = [];
  private cur = 0;
  private n = 0;
  bit(b: number): void {
    this.cur = (this.cur << 1) | (b & 1);
    if (++this.n === 8) {
      this.bytes.push(this.cur);
      this.cur = 0;
      this.n = 0;
    }
  }
  bits(v: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) this.bit(Math.floor(v / 2 ** i) & 1);
  }
  ue(v: number): void {
    const len = Math.floor(Math.log2(v + 1));
    this.bits(0, len);
    this.bits(v + 1, len + 1);
  }
  se(v: number): void {
    this.ue(v <= 0 ? -2 * v : 2 * v - 1);
  }
  /** rbsp_trailing_bits: a 1, then zeros to the byte boundary. */
  trailing(): Uint8Array {
    this.bit(1);
    while (this.n !== 0) this.bit(0);
    return Uint8Array.from(this.bytes);
  }
}

export interface SpsInfo {
  /** 1 = 4:2:0 (the default when the profile does not say). */
  chromaFormatIdc?: number;
  widthMbs: number;
  heightMbs: number;
  log2MaxFrameNum: number;
  pocType: number;
}

export interface PpsInfo {
  entropyCabac: boolean;
  numRefIdxL0Default: number;
  weightedPred: boolean;
  deblockingControl: boolean;
  redundantPicCnt: boolean;
}

/** NAL header byte is data[0]; payload follows. */
export function nalType(nal: Uint8Array): number {
  return nal[0]! & 0x1f;
}

export function parseSps(nal: Uint8Array): SpsInfo {
  const r = new BitReader(unescapeRbsp(nal.subarray(1)));
  const profile = r.bits(8);
  r.bits(16); // constraint flags + level
  r.ue(); // sps id
  let chromaFormatIdc = 1;
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profile)) {
    const chroma = r.ue();
    chromaFormatIdc = chroma;
    if (chroma === 3) r.bit();
    r.ue();
    r.ue();
    r.bit();
    if (r.bit()) throw new Error('H.264: scaling matrices are not supported');
  }
  const log2MaxFrameNum = r.ue() + 4;
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) throw new Error('H.264: POC type 1 is not supported');
  r.ue(); // max_num_ref_frames
  r.bit(); // gaps allowed
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.bit();
  if (!frameMbsOnly) throw new Error('H.264: interlaced streams are not supported');
  return { chromaFormatIdc, widthMbs, heightMbs: heightMapUnits, log2MaxFrameNum, pocType };
}

export function parsePps(nal: Uint8Array): PpsInfo {
  const r = new BitReader(unescapeRbsp(nal.subarray(1)));
  r.ue();
  r.ue();
  const entropyCabac = r.bit() === 1;
  if (r.bit()) throw new Error('H.264: bottom_field_pic_order_in_frame_present is not supported');
  if (r.ue() !== 0) throw new Error('H.264: slice groups are not supported');
  const numRefIdxL0Default = r.ue() + 1;
  r.ue();
  const weightedPred = r.bit() === 1;
  r.bits(2);
  r.se();
  r.se();
  r.se();
  const deblockingControl = r.bit() === 1;
  r.bit();
  const redundantPicCnt = r.bit() === 1;
  return { entropyCabac, numRefIdxL0Default, weightedPred, deblockingControl, redundantPicCnt };
}

/** first_mb_in_slice and the bit offset of frame_num inside a slice NAL's RBSP (header byte excluded). */
export function sliceHeaderStart(rbsp: Uint8Array): { firstMb: number; frameNumBit: number } {
  const r = new BitReader(rbsp);
  const firstMb = r.ue();
  r.ue(); // slice_type
  r.ue(); // pps id
  return { firstMb, frameNumBit: r.pos };
}

/** A copy of slice NAL `nal` with frame_num replaced (fixed width, so nothing else moves). */
export function withFrameNum(nal: Uint8Array, sps: SpsInfo, frameNum: number): Buffer {
  const rbsp = Uint8Array.from(unescapeRbsp(nal.subarray(1)));
  const { frameNumBit } = sliceHeaderStart(rbsp);
  for (let i = 0; i < sps.log2MaxFrameNum; i++) {
    const bitPos = frameNumBit + i;
    const bit = Math.floor(frameNum / 2 ** (sps.log2MaxFrameNum - 1 - i)) & 1;
    const mask = 1 << (7 - (bitPos & 7));
    rbsp[bitPos >> 3] = bit ? rbsp[bitPos >> 3]! | mask : rbsp[bitPos >> 3]! & ~mask;
  }
  return Buffer.concat([Buffer.from([nal[0]!]), escapeRbsp(rbsp)]);
}

/** A reference P picture whose macroblocks are all P_Skip with deblocking off: a copy of the previous picture. */
export function skipSlice(sps: SpsInfo, pps: PpsInfo, frameNum: number): Buffer {
  if (pps.entropyCabac || sps.pocType !== 2 || pps.redundantPicCnt) {
    throw new Error('H.264: skip pictures need CAVLC and POC type 2');
  }
  const w = new BitWriter();
  w.ue(0); // first_mb_in_slice
  w.ue(5); // slice_type: P (all slices of the picture)
  w.ue(0); // pic_parameter_set_id
  w.bits(frameNum, sps.log2MaxFrameNum);
  if (pps.numRefIdxL0Default !== 1) {
    w.bit(1); // num_ref_idx_active_override_flag
    w.ue(0); // one reference: the previous picture
  } else w.bit(0);
  w.bit(0); // ref_pic_list_modification_flag_l0
  if (pps.weightedPred) {
    // pred_weight_table with default weights (flags 0): the copy stays exact.
    w.ue(0); // luma_log2_weight_denom
    if ((sps.chromaFormatIdc ?? 1) !== 0) w.ue(0); // chroma_log2_weight_denom
    w.bit(0); // luma_weight_l0_flag
    if ((sps.chromaFormatIdc ?? 1) !== 0) w.bit(0); // chroma_weight_l0_flag
  }
  w.bit(0); // dec_ref_pic_marking: adaptive_ref_pic_marking_mode_flag = 0 (sliding window)
  w.se(0); // slice_qp_delta
  if (pps.deblockingControl) w.ue(1); // disable_deblocking_filter_idc: off
  w.ue(sps.widthMbs * sps.heightMbs); // mb_skip_run: every macroblock
  const rbsp = w.trailing();
  return Buffer.concat([Buffer.from([0x41]), escapeRbsp(rbsp)]); // nal_ref_idc 2, type 1
}

/** Splits an Annex B byte stream into NAL units (without start codes), chunk by chunk. */
export class AnnexBSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Feed bytes; returns the NAL units completed so far. */
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    let start = this.findStart(0);
    if (start < 0) return out;
    for (;;) {
      const next = this.findStart(start + 3);
      if (next < 0) break;
      out.push(this.trim(this.buf.subarray(start + 3, next)));
      start = next;
    }
    this.buf = this.buf.subarray(start);
    return out.filter((n) => n.length > 0);
  }
  /** End of stream: the last NAL unit, if any. */
  end(): Buffer[] {
    const start = this.findStart(0);
    if (start < 0) return [];
    const last = this.trim(this.buf.subarray(start + 3));
    this.buf = Buffer.alloc(0);
    return last.length ? [last] : [];
  }
  private findStart(from: number): number {
    return this.buf.indexOf(START3, from);
  }
  private trim(nal: Buffer): Buffer {
    let end = nal.length;
    while (end > 0 && nal[end - 1] === 0) end--; // trailing_zero_8bits / the 4-byte start code's leading zero
    return nal.subarray(0, end);
  }
}
const START3 = Buffer.from([0, 0, 1]);
export const START_CODE = Buffer.from([0, 0, 0, 1]);

/**
 * Re-times a stream of unique pictures: after picture i, inserts `durations[i] - 1` skip pictures,
 * renumbering frame_num throughout. Feed NAL units in order; collect Annex B output.
 */
export class SkipSplicer {
  private sps?: SpsInfo;
  private pps?: PpsInfo;
  private picture = -1; // index of the picture being received
  private inPicture = false;
  private prevRefFrameNum = 0;
  private frameNum = 0;
  /** Output frames produced so far (pictures + skips). */
  outFrames = 0;

  constructor(
    private readonly durations: readonly number[],
    private readonly emit: (chunk: Buffer) => void,
  ) {}

  private finishPicture(): void {
    if (!this.inPicture) return;
    this.inPicture = false;
    const d = this.durations[this.picture];
    if (d === undefined) throw new Error(`H.264: the encoder produced more pictures than the ${this.durations.length} planned`);
    const max = 2 ** this.sps!.log2MaxFrameNum;
    for (let i = 1; i < d; i++) {
      this.frameNum = (this.prevRefFrameNum + 1) % max;
      this.prevRefFrameNum = this.frameNum;
      this.emit(START_CODE);
      this.emit(skipSlice(this.sps!, this.pps!, this.frameNum));
    }
    this.outFrames += d;
  }

  nal(nal: Buffer): void {
    const type = nalType(nal);
    if (type === 1 || type === 5) {
      if (!this.sps || !this.pps) throw new Error('H.264: slice before SPS/PPS');
      const { firstMb } = sliceHeaderStart(unescapeRbsp(nal.subarray(1, 16)));
      if (firstMb === 0) {
        this.finishPicture();
        this.picture++;
        this.inPicture = true;
        const refIdc = (nal[0]! >> 5) & 3;
        if (type === 5) this.frameNum = 0;
        else this.frameNum = (this.prevRefFrameNum + 1) % 2 ** this.sps.log2MaxFrameNum;
        if (refIdc !== 0 || type === 5) this.prevRefFrameNum = this.frameNum;
      }
      this.emit(START_CODE);
      this.emit(withFrameNum(nal, this.sps, this.frameNum));
      return;
    }
    // Any other NAL unit (SPS, PPS, SEI, AUD) opens the next access unit.
    this.finishPicture();
    if (type === 7) this.sps = parseSps(nal);
    if (type === 8) {
      this.pps = parsePps(nal);
      if (this.pps.entropyCabac) throw new Error('H.264: expected CAVLC (cabac=0)');
    }
    this.emit(START_CODE);
    this.emit(nal);
  }

  /** End of stream: finishes the last picture and checks every planned picture arrived. */
  end(): void {
    this.finishPicture();
    if (this.picture + 1 !== this.durations.length) {
      throw new Error(`H.264: the encoder produced ${this.picture + 1} pictures, ${this.durations.length} were planned`);
    }
  }
}
