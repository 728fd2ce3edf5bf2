import assert from 'node:assert/strict';
import { AnnexBSplitter, BitReader, BitWriter, escapeRbsp, parsePps, parseSps, skipSlice, SkipSplicer, unescapeRbsp, withFrameNum, sliceHeaderStart } from '../../lambdas/src/engine/h264.ts';
import type { PpsInfo, SpsInfo } from '../../lambdas/src/engine/h264.ts';

describe('engine: H.264 skip-picture splicing', () => {
  it('round-trips Exp-Golomb codes and emulation prevention', () => {
    const w = new BitWriter();
    const values = [0, 1, 2, 7, 254, 255, 3599, 65535];
    for (const v of values) w.ue(v);
    for (const v of [-3, 0, 5]) w.se(v);
    w.bits(0b1011, 4);
    const bytes = w.trailing();
    const r = new BitReader(bytes);
    assert.deepEqual(values.map(() => r.ue()), values);
    assert.deepEqual([r.se(), r.se(), r.se()], [-3, 0, 5]);
    assert.equal(r.bits(4), 0b1011);
    const raw = Uint8Array.from([0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 5, 0, 0]);
    const escaped = escapeRbsp(raw);
    for (let i = 2; i < escaped.length; i++) {
      assert.ok(!(escaped[i - 2] === 0 && escaped[i - 1] === 0 && escaped[i]! <= 2), 'no start code inside a NAL');
    }
    assert.deepEqual([...unescapeRbsp(escaped)], [...raw]);
  });

  it('splits Annex B streams across chunk borders', () => {
    const stream = Buffer.from([0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5, 6]);
    const s = new AnnexBSplitter();
    const nals = [...s.push(stream.subarray(0, 9)), ...s.push(stream.subarray(9, 15)), ...s.push(stream.subarray(15)), ...s.end()];
    assert.deepEqual(nals.map((n) => [...n]), [[0x67, 1, 2], [0x68, 3], [0x65, 4, 5, 6]]);
  });

  const sps: SpsInfo = { widthMbs: 80, heightMbs: 45, log2MaxFrameNum: 4, pocType: 2 };
  const pps: PpsInfo = { entropyCabac: false, numRefIdxL0Default: 1, weightedPred: false, deblockingControl: true, redundantPicCnt: false };

  it('writes an all-skip P slice: every macroblock skipped, deblocking off, given frame_num', () => {
    const nal = skipSlice(sps, pps, 9);
    assert.equal(nal[0], 0x41, 'reference slice, non-IDR');
    const r = new BitReader(unescapeRbsp(nal.subarray(1)));
    assert.equal(r.ue(), 0);
    assert.equal(r.ue(), 5, 'P');
    assert.equal(r.ue(), 0);
    assert.equal(r.bits(4), 9, 'frame_num');
    assert.deepEqual([r.bit(), r.bit(), r.bit()], [0, 0, 0], 'no override, no reordering, sliding window');
    assert.equal(r.se(), 0, 'slice QP delta');
    assert.equal(r.ue(), 1, 'deblocking off');
    assert.equal(r.ue(), 80 * 45, 'mb_skip_run covers the picture');
    assert.equal(r.bit(), 1, 'stop bit');
    assert.throws(() => skipSlice(sps, { ...pps, entropyCabac: true }, 0), /CAVLC/);
    assert.throws(() => skipSlice({ ...sps, pocType: 0 }, pps, 0), /POC type 2/);
  });

  it('rewrites frame_num in place and leaves the rest of the slice untouched', () => {
    const w = new BitWriter();
    w.ue(0);
    w.ue(5);
    w.ue(0);
    w.bits(3, 4);
    w.bits(0xabcd, 16);
    const nal = Buffer.concat([Buffer.from([0x41]), escapeRbsp(w.trailing())]);
    const out = withFrameNum(nal, sps, 12);
    const rbsp = unescapeRbsp(out.subarray(1));
    const { frameNumBit } = sliceHeaderStart(rbsp);
    const r = new BitReader(rbsp);
    r.pos = frameNumBit;
    assert.equal(r.bits(4), 12);
    assert.equal(r.bits(16), 0xabcd);
  });

  it('inserts duration − 1 skips per picture and renumbers frame_num across IDRs', () => {
    // Real SPS/PPS from our x264 settings (1280x720, CAVLC, POC type 2).
    const spsNal = Buffer.from('6764001facb402802dd80880000003008000001e078c1950', 'hex');
    const ppsNal = Buffer.from('68ce0bcb', 'hex');
    const parsedSps = parseSps(spsNal);
    const parsedPps = parsePps(ppsNal);
    assert.equal(parsedSps.pocType, 2);
    assert.equal(parsedPps.entropyCabac, false);
    const slice = (idr: boolean) => {
      const w = new BitWriter();
      w.ue(0);
      w.ue(idr ? 7 : 5);
      w.ue(0);
      w.bits(0, parsedSps.log2MaxFrameNum);
      w.bits(0x55, 8);
      return Buffer.concat([Buffer.from([idr ? 0x65 : 0x41]), escapeRbsp(w.trailing())]);
    };
    const out: Buffer[] = [];
    const splicer = new SkipSplicer([3, 2, 1], (b) => out.push(b));
    for (const nal of [spsNal, ppsNal, slice(true), slice(false), spsNal, ppsNal, slice(true)]) splicer.nal(nal);
    splicer.end();
    assert.equal(splicer.outFrames, 6);
    const nals = new AnnexBSplitter().push(Buffer.concat([...out, Buffer.from([0, 0, 1])]));
    const frameNums = nals
      .filter((n) => (n[0]! & 0x1f) === 1 || (n[0]! & 0x1f) === 5)
      .map((n) => {
        const rbsp = unescapeRbsp(n.subarray(1));
        const r = new BitReader(rbsp);
        r.pos = sliceHeaderStart(rbsp).frameNumBit;
        return [(n[0]! & 0x1f) === 5 ? 'I' : 'P', r.bits(parsedSps.log2MaxFrameNum)];
      });
    assert.deepEqual(frameNums, [['I', 0], ['P', 1], ['P', 2], ['P', 3], ['P', 4], ['I', 0]]);
    const extra = new SkipSplicer([1], () => {});
    extra.nal(spsNal);
    extra.nal(ppsNal);
    extra.nal(slice(true));
    assert.throws(() => extra.nal(slice(false)) ?? extra.end(), /more pictures/);
  });
});
