/** Test helpers for fan-out: what ffprobe and a full decode say about a joined file. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FFMPEG, FFPROBE, type Rgb } from '../engine/helpers.ts';

const run = promisify(execFile);

interface Packet {
  pts: number;
  dts: number;
  key: boolean;
}

export interface StreamFacts {
  /** Decoded frames (ffprobe -count_frames). */
  frames: number;
  duration: number;
  packets: Packet[];
}

export async function streamFacts(file: string): Promise<StreamFacts> {
  const { stdout } = await run(FFPROBE, [
    '-v', 'error', '-select_streams', 'v:0', '-count_frames',
    '-show_entries', 'stream=nb_read_frames:format=duration:packet=pts_time,dts_time,flags',
    '-of', 'json', file,
  ]);
  const j = JSON.parse(stdout) as { streams: { nb_read_frames: string }[]; format: { duration: string }; packets: { pts_time: string; dts_time: string; flags: string }[] };
  return {
    frames: Number(j.streams[0]!.nb_read_frames),
    duration: Number(j.format.duration),
    packets: j.packets.map((p) => ({ pts: Number(p.pts_time), dts: Number(p.dts_time), key: p.flags.includes('K') })),
  };
}

/** Decode every frame; FFmpeg must report nothing at `-v error`. */
export async function decodeErrors(file: string): Promise<string> {
  const { stderr } = await run(FFMPEG, ['-v', 'error', '-nostdin', '-i', file, '-f', 'null', '-']);
  return stderr.trim();
}


/** Distinct image colours, so a frame shows which image (and which segment) it came from. */
export const COLOURS: Rgb[] = [
  [220, 40, 40],
  [40, 200, 40],
  [40, 40, 220],
  [220, 200, 40],
  [40, 200, 220],
  [220, 40, 200],
];
