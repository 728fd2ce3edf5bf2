export { createRenderer, encoderArgs, muxerArgs, x264Params, DEFAULT_CRF, DEFAULT_X264_PRESET, DEFAULT_TIMEOUT_MS } from './renderer.ts';
export type { RendererConfig } from './renderer.ts';
export { resolveFfmpegPath, npmFfmpegPath, LAYER_FFMPEG_PATH } from './ffmpeg-path.ts';
export { fitImage } from './image.ts';
