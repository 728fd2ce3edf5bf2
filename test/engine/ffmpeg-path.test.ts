import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAYER_FFMPEG_PATH, npmFfmpegPath, resolveFfmpegPath } from '../../lambdas/src/engine/index.ts';
import { tempDir } from './helpers.ts';

describe('engine: which FFmpeg runs', () => {
  it('FFMPEG_PATH wins, then the layer path, then the npm static binary (executable)', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      assert.equal(LAYER_FFMPEG_PATH, '/opt/bin/ffmpeg');
      assert.equal(resolveFfmpegPath({ FFMPEG_PATH: '/custom/ffmpeg' }, join(dir, 'none')), '/custom/ffmpeg');
      const layer = join(dir, 'ffmpeg');
      writeFileSync(layer, '');
      assert.equal(resolveFfmpegPath({}, layer), layer);
      const npm = resolveFfmpegPath({}, join(dir, 'missing'));
      assert.equal(npm, npmFfmpegPath());
      assert.match(npm, /@ffmpeg-installer\/linux-(x64|arm64)\/ffmpeg$/);
      assert.ok(statSync(npm).mode & 0o111, 'executable');
      assert.match(npmFfmpegPath('arm64') ?? '@ffmpeg-installer/linux-arm64', /linux-arm64/);
    } finally {
      await cleanup();
    }
  });
});
