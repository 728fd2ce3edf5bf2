/**
 * Refresh the README screenshots from the browser tests' artifacts:
 *   npx mocha --no-config --node-option import=tsx --timeout 300000 test/browser/upload-page.test.ts
 *   npx tsx ui/scripts/docs-screenshots.ts
 * Writes docs/img/ui-desktop.png (scaled to 960 px wide) and docs/img/ui-phone.png, palette PNGs to keep the repo small.
 */
import { mkdir, stat } from 'node:fs/promises';
import sharp from 'sharp';

const shots = [
  { from: 'test-artifacts/ui/readme-arranged-desktop.png', to: 'docs/img/ui-desktop.png', width: 960 },
  { from: 'test-artifacts/ui/readme-done-phone.png', to: 'docs/img/ui-phone.png', width: 360 },
];

await mkdir('docs/img', { recursive: true });
for (const s of shots) {
  await sharp(s.from).resize({ width: s.width }).png({ palette: true, quality: 90, effort: 10, compressionLevel: 9 }).toFile(s.to);
  console.log(`${s.to}: ${((await stat(s.to)).size / 1024).toFixed(1)} KB`);
}
