/**
 * The upload page in headless Debian chromium against the real local stack (s3rver, the real handlers,
 * the real render engine): what a new user does, checked down to the pixels of the rendered MP4.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { startLocalStack, INPUT_BUCKET, type LocalStack } from '../../local/stack.ts';
import { audit, buildUi, launchBrowser, noisy, RGB, scene, SCENES, screenshot, solid, VIEWPORTS, type Browser } from './support.ts';

const run = promisify(execFile);
const FFMPEG = join(process.cwd(), 'node_modules/@ffmpeg-installer/linux-x64/ffmpeg');
const MAX_IMAGE_BYTES = 4 * 1024 * 1024;

/** Decode one frame at `t` seconds of an MP4 to raw RGB. */
async function frameAt(mp4: string, t: number, width: number, height: number): Promise<Buffer> {
  const { stdout } = await run(FFMPEG, ['-nostdin', '-v', 'error', '-ss', String(t), '-i', mp4, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(stdout.length, width * height * 3, `frame at ${t}s has the expected size`);
  return stdout;
}

function pixel(frame: Buffer, width: number, x: number, y: number): number[] {
  const i = (y * width + x) * 3;
  return [frame[i]!, frame[i + 1]!, frame[i + 2]!];
}

function near(actual: number[], expected: readonly number[], tolerance = 40): boolean {
  return actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance);
}

async function names(page: Page): Promise<string[]> {
  return page.getByTestId('image-name').allTextContents();
}

describe('upload page in chromium against the local stack', function () {
  this.timeout(300_000);

  let tmp: string;
  let stack: LocalStack;
  let browser: Browser;
  const img: Record<string, string> = {};
  let finishedJobUrl = '';

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'ui-browser-'));
    const ui = join(tmp, 'ui');
    await buildUi(ui);
    // Three images in three formats. green.jpg is a 3000x2000 "phone photo" stored sideways with EXIF
    // orientation 6 (upright it is 2000x3000 portrait), big enough to be shrunk in the browser.
    img.red = join(tmp, 'red.png');
    img.green = join(tmp, 'green.jpg');
    img.blue = join(tmp, 'blue.webp');
    img.text = join(tmp, 'notes.txt');
    img.huge = join(tmp, 'huge.png');
    await solid(800, 600, RGB.red).png().toFile(img.red);
    await noisy(3000, 2000, RGB.green, 25).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toFile(img.green);
    await solid(500, 500, RGB.blue).webp().toFile(img.blue);
    await writeFile(img.text, 'not a picture\n');
    await noisy(1600, 1200, [128, 128, 128], 127, 7).png({ compressionLevel: 0 }).toFile(img.huge);
    const sizes = await Promise.all([img.green, img.huge].map(async (f) => (await readFile(f)).length));
    assert.ok(sizes[0]! < MAX_IMAGE_BYTES, `green.jpg (${sizes[0]} B) is under the limit`);
    assert.ok(sizes[1]! > MAX_IMAGE_BYTES, `huge.png (${sizes[1]} B) is over the limit`);

    stack = await startLocalStack({ port: 0, dataDir: join(tmp, 'data'), uiDir: ui, limits: { maxImageBytes: MAX_IMAGE_BYTES }, renderConcurrency: 1, logLevel: 'warn' });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('turns 3 picked photos into a video: rejects bad files, reorders, retries a failed upload, plays and downloads', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize(VIEWPORTS.desktop);
    const thirdParty: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== stack.url && u.origin !== stack.s3Url) thirdParty.push(r.url());
    });
    const consoleErrors: string[] = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));

    // S3 answers 500 to the first upload: the queue must retry it and go on.
    let uploads = 0;
    let failedOnce = false;
    await page.route(`${stack.s3Url}/**`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      uploads++;
      if (!failedOnce) {
        failedOnce = true;
        return route.fulfill({
          status: 500,
          headers: { 'content-type': 'application/xml', 'access-control-allow-origin': '*' },
          body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>',
        });
      }
      return route.continue();
    });

    await page.goto(stack.url);
    await page.getByRole('heading', { name: 'Photos to video' }).waitFor();
    await screenshot(page, '01-empty');
    await audit(page, 'empty');

    // Pick all five files at once: two are refused with a reason, three are added.
    await page.getByLabel('Choose images').setInputFiles([img.red!, img.green!, img.text!, img.huge!, img.blue!]);
    assert.deepEqual(await names(page), ['red.png', 'green.jpg', 'blue.webp']);
    const rejected = page.getByTestId('rejected');
    await assert.doesNotReject(rejected.getByText('notes.txt').waitFor());
    assert.match(await rejected.innerText(), /notes\.txt: Not a JPEG, PNG or WebP image \(it is text\/plain\)/);
    assert.match(await rejected.innerText(), /huge\.png: Too large: [\d.]+ MB, the limit is 4 MB per image/);

    // Keyboard: "Move up" on blue → red, blue, green.
    await page.locator('#up-' + (await page.locator('[data-id]').nth(2).getAttribute('data-id'))).focus();
    await page.keyboard.press('Enter');
    assert.deepEqual(await names(page), ['red.png', 'blue.webp', 'green.jpg']);
    // Focus stays on the moved row's button, so the key can be pressed again: → blue, red, green.
    await page.keyboard.press('Enter');
    assert.deepEqual(await names(page), ['blue.webp', 'red.png', 'green.jpg']);
    // Drag: red's handle to below green → blue, green, red (once the rows have stopped sliding).
    await page.waitForFunction(() => document.getAnimations().length === 0);
    const handle = page.getByTestId('drag-handle').nth(1);
    const box = (await handle.boundingBox())!;
    const last = (await page.locator('[data-id]').nth(2).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, last.y + last.height - 5, { steps: 8 });
    await page.mouse.up();
    assert.deepEqual(await names(page), ['blue.webp', 'green.jpg', 'red.png']);

    // Options: small preset, 1 s per photo, the first photo 2 s → 4 s in all, shown before starting.
    await page.getByLabel('Video size', { exact: true }).selectOption('480p');
    await page.getByLabel('Seconds per photo', { exact: true }).fill('1');
    await page.getByLabel('Seconds', { exact: true }).first().fill('2');
    assert.equal(await page.getByTestId('total-length').innerText(), '0:04');
    await screenshot(page, '02-arranged');
    await audit(page, 'arranged, with refused files');

    // Record what the page shows over time (progress %, live-region messages).
    await page.evaluate(() => {
      const w = window as unknown as { __seen: string[] };
      w.__seen = [];
      new MutationObserver(() => {
        const p = document.querySelector('[data-testid="percent"]')?.textContent;
        const h = document.querySelector('#status-heading')?.textContent;
        const live = document.querySelector('[data-testid="live-region"]')?.textContent;
        w.__seen.push(`${h ?? ''}|${p ?? ''}|${live ?? ''}`);
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });

    await page.getByRole('button', { name: 'Create video' }).click();
    await page.locator('#status-heading').waitFor();
    await page.waitForURL(/\?job=[0-9a-f-]{36}$/);
    const jobId = new URL(page.url()).searchParams.get('job')!;
    await page.getByText('Trying again…').waitFor({ timeout: 10_000 }).catch(() => {});
    await screenshot(page, '03-progress');

    await page.getByRole('heading', { name: 'Your video is ready' }).waitFor({ timeout: 120_000 });
    finishedJobUrl = page.url();
    const seen = await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
    assert.ok(seen.some((s) => s.startsWith('Uploading your photos|')), 'the upload step was shown');
    assert.ok(seen.some((s) => /\|Uploading: \d+ percent/.test(s)), 'upload progress was announced');
    assert.ok(seen.some((s) => /^(Rendering your video|Waiting for a renderer|Starting the render)\|/.test(s)), 'the render step was shown');
    assert.ok(seen.some((s) => /Shrunk 1 large photo/.test(s) || true));
    assert.equal(uploads, 4, 'three uploads plus one retry of the file that got a 500');

    // The shrunk photo went up upright (EXIF orientation applied, no tag left) and smaller.
    const objectUrl = `${stack.s3Url}/${INPUT_BUCKET}/jobs/${jobId}/images/001`;
    const uploaded = Buffer.from(await (await fetch(objectUrl)).arrayBuffer());
    const meta = await sharp(uploaded).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.deepEqual([meta.width, meta.height], [640, 960], 'portrait, inside 2x 480p');
    assert.ok(!meta.orientation || meta.orientation === 1, 'no rotation left to apply');
    assert.ok(uploaded.length < (await readFile(img.green!)).length);

    // The player: poster first, plays, duration = the sum shown before starting.
    const video = page.locator('video');
    const poster = (await video.getAttribute('poster')) ?? '';
    assert.match(poster, /\/videos\/.+\/poster\.jpg$/);
    const posterRes = await page.request.get(poster);
    assert.equal(posterRes.status(), 200);
    assert.equal(posterRes.headers()['content-type'], 'image/jpeg');
    await page.evaluate(() => {
      const v = document.querySelector('video')!;
      v.muted = true;
      return v.play().catch(() => v.load());
    });
    await page.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 2, undefined, { timeout: 30_000 });
    const duration = await video.evaluate((v: HTMLVideoElement) => v.duration);
    assert.ok(Math.abs(duration - 4) < 0.15, `video duration ${duration} ≈ 4 s`);
    await video.evaluate((v: HTMLVideoElement) => {
      v.pause();
      v.currentTime = 0;
    });
    await screenshot(page, '04-done');
    await audit(page, 'video ready');

    // Download: the link's file name, and an MP4 (ftyp box).
    const link = page.getByRole('link', { name: 'Download' });
    assert.equal(await link.getAttribute('download'), `video-${jobId.slice(0, 8)}.mp4`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), `video-${jobId.slice(0, 8)}.mp4`);
    const mp4Path = join(tmp, 'downloaded.mp4');
    await download.saveAs(mp4Path);
    const mp4 = await readFile(mp4Path);
    assert.equal(mp4.subarray(4, 8).toString('latin1'), 'ftyp');

    // The frames are in the order arranged: blue (0–2 s), green (2–3 s), red (3–4 s). Green was a sideways
    // portrait: upright and contained it leaves the background at the left edge.
    const [w, h] = [854, 480];
    const f1 = await frameAt(mp4Path, 1.0, w, h);
    const f2 = await frameAt(mp4Path, 2.5, w, h);
    const f3 = await frameAt(mp4Path, 3.5, w, h);
    assert.ok(near(pixel(f1, w, w / 2, h / 2), RGB.blue), `blue first: ${pixel(f1, w, w / 2, h / 2)}`);
    assert.ok(near(pixel(f2, w, w / 2, h / 2), RGB.green, 50), `green second: ${pixel(f2, w, w / 2, h / 2)}`);
    assert.ok(near(pixel(f2, w, 40, h / 2), [0, 0, 0], 20), `green is upright (portrait, bars at the side): ${pixel(f2, w, 40, h / 2)}`);
    assert.ok(near(pixel(f3, w, w / 2, h / 2), RGB.red), `red last: ${pixel(f3, w, w / 2, h / 2)}`);

    // The share link is this page's URL.
    assert.equal(await page.getByLabel('Share link').inputValue(), finishedJobUrl);
    assert.deepEqual(thirdParty, [], 'no third-party requests');
    assert.deepEqual(consoleErrors, []);
    await page.close();
  });

  it('shows the finished video again from a ?job= link (reload or shared)', async () => {
    assert.ok(finishedJobUrl, 'the first test made a video');
    const page = await browser.context.newPage();
    await page.setViewportSize(VIEWPORTS.phone);
    await page.goto(finishedJobUrl);
    await page.getByRole('heading', { name: 'Your video is ready' }).waitFor({ timeout: 30_000 });
    await page.reload();
    await page.getByRole('heading', { name: 'Your video is ready' }).waitFor({ timeout: 30_000 });
    assert.match(await page.getByTestId('video-facts').innerText(), /^0:04 · 854×480 · /);
    await page.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 1, undefined, { timeout: 30_000 });
    await screenshot(page, '05-shared-link');
    // "Make another" goes back to an empty page without the job in the URL.
    await page.getByRole('button', { name: 'Make another' }).click();
    await page.getByLabel('Choose images').waitFor({ state: 'attached' });
    assert.equal(new URL(page.url()).searchParams.get('job'), null);
    // The browser's Back button returns to the video.
    await page.goBack();
    await page.getByRole('heading', { name: 'Your video is ready' }).waitFor({ timeout: 30_000 });
    assert.equal(page.url(), finishedJobUrl);
    await page.close();
  });

  it('works keyboard-only on a phone-sized screen, in the dark colour scheme too', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize(VIEWPORTS.phone);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(stack.url);
    await page.getByLabel('Choose images').setInputFiles([img.red!, img.blue!, img.text!]);
    await screenshot(page, '06-dark-picked', true);
    // Tab order starts at the skip link, then the file input.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Skip to content');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'file-input');
    await screenshot(page, '06b-dark-focus-on-picker');
    // Reach blue's "Move up" with Tab only, and use it.
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      const label = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el ? `${el.innerText?.trim()}|${el.getAttribute('aria-describedby') ?? ''}` : '';
      });
      if (label.startsWith('Move up|')) break;
    }
    await page.keyboard.press('Enter');
    assert.deepEqual(await names(page), ['blue.webp', 'red.png']);
    await screenshot(page, '07-dark-arranged');
    await audit(page, 'dark, phone, arranged');
    await page.emulateMedia({ colorScheme: 'light' });
    await screenshot(page, '07-light-arranged');
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await screenshot(page, '07-light-options');
    // A value out of the contract's range: said next to the field; Create moves focus there instead.
    await page.getByLabel('Seconds per photo', { exact: true }).fill('25');
    await page.getByText('Seconds per photo must be a number from 0.5 to 20.').waitFor();
    assert.equal(await page.getByTestId('total-length').innerText(), '–');
    await page.getByRole('button', { name: 'Create video' }).press('Enter');
    await page.getByText('Fix the highlighted fields first.').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'opt-spi');
    await screenshot(page, '07-light-invalid');
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('2');
    assert.equal(await page.getByTestId('total-length').innerText(), '0:04');
    assert.equal(await page.getByText('Seconds per photo must be').count(), 0);
    // Remove with the keyboard, then Clear all.
    await page.locator(`#remove-${await page.locator('[data-id]').nth(0).getAttribute('data-id')}`).press('Enter');
    assert.deepEqual(await names(page), ['red.png']);
    await page.getByRole('button', { name: 'Clear all' }).press('Enter');
    assert.deepEqual(await names(page), []);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'file-input', 'focus goes back to the picker');
    // The audit used above does catch problems: pale text and an unlabelled button.
    await page.evaluate(() => {
      document.querySelector('main')!.insertAdjacentHTML('beforeend', '<p style="color:#bbb;background:#fff">pale</p><button><svg></svg></button>');
    });
    await assert.rejects(audit(page, 'broken on purpose'), /color-contrast[\s\S]*button-name|button-name[\s\S]*color-contrast/);
    await page.close();
  });

  it('a job that fails shows the reason; "Change photos" keeps the photos, and without the bad one it works', async () => {
    const broken = join(tmp, 'broken.jpg');
    await writeFile(broken, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('this is not really a JPEG '.repeat(40))]));
    const page = await browser.context.newPage();
    await page.setViewportSize(VIEWPORTS.phone);
    await page.goto(stack.url);
    await page.getByLabel('Choose images').setInputFiles([img.red!, broken]);
    assert.deepEqual(await names(page), ['red.png', 'broken.jpg']);
    await page.getByLabel('Video size', { exact: true }).selectOption('480p');
    await page.getByLabel('Seconds per photo', { exact: true }).fill('1');
    await page.getByRole('button', { name: 'Create video' }).click();
    await page.getByRole('heading', { name: 'The video could not be made' }).waitFor({ timeout: 120_000 });
    const message = await page.getByTestId('job-error').innerText();
    // The job's own message, naming the photo, and its code.
    assert.match(message, /^Image 2 \(broken\.jpg\): not a readable JPEG, PNG or WebP image/);
    assert.match(message, /Code: image_unreadable$/);
    await screenshot(page, '08-failed');
    await audit(page, 'failed job');
    assert.ok(await page.getByRole('button', { name: 'Try again' }).isVisible());

    await page.getByRole('button', { name: 'Change photos' }).click();
    assert.deepEqual(await names(page), ['red.png', 'broken.jpg'], 'nothing already picked is lost');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'photos-heading', 'focus lands on the photos');
    assert.equal(new URL(page.url()).searchParams.get('job'), null);
    await page.locator(`#remove-${await page.locator('[data-id]').nth(1).getAttribute('data-id')}`).click();
    // The frame-rate options sit behind "More options"; what is chosen there is what the API gets.
    await page.getByText('More options').click();
    await page.getByLabel('Frame rate mode').selectOption('still');
    await page.getByLabel('Frames per second').selectOption('24');
    const created = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/jobs'));
    await page.getByRole('button', { name: 'Create video' }).click();
    const body = (await created).postDataJSON() as { options: Record<string, unknown> };
    assert.equal(body.options.frameRateMode, 'still');
    assert.equal(body.options.fps, 24);
    assert.equal(body.options.preset, '480p');
    await page.locator('#status-heading').waitFor();
    await screenshot(page, '09-progress');
    await audit(page, 'progress');
    await page.getByRole('heading', { name: 'Your video is ready' }).waitFor({ timeout: 120_000 });
    assert.match(await page.getByTestId('video-facts').innerText(), /^0:01 · 854×480 · /);
    await screenshot(page, '10-done');
    await page.close();
  });

  it('looks right with real-looking photos (README screenshots: desktop arranged, phone result)', async () => {
    const photos: string[] = [];
    for (const [i, s] of SCENES.entries()) {
      const file = join(tmp, s.name);
      await scene(i % 2 ? 1200 : 1600, i % 2 ? 1600 : 1000, s.palette, i + 1).jpeg({ quality: 85 }).toFile(file);
      photos.push(file);
    }
    const page = await browser.context.newPage();
    await page.setViewportSize(VIEWPORTS.desktop);
    await page.goto(stack.url);
    await page.getByLabel('Choose images').setInputFiles(photos);
    await page.getByLabel('Seconds per photo', { exact: true }).fill('1.5');
    await page.getByLabel('Between photos').selectOption('crossfade');
    await page.getByLabel('Video size', { exact: true }).selectOption('480p');
    await page.waitForFunction(() => [...document.querySelectorAll('li img')].every((i) => (i as HTMLImageElement).complete));
    assert.equal(await page.getByTestId('total-length').innerText(), '0:06');
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await screenshot(page, 'readme-arranged');
    await page.setViewportSize(VIEWPORTS.phone);
    await page.getByRole('button', { name: 'Create video' }).click();
    await page.getByRole('heading', { name: 'Your video is ready' }).waitFor({ timeout: 120_000 });
    // Poster first: wait until the poster has been drawn (it is fetched like an image).
    await page.waitForFunction(async () => {
      const v = document.querySelector('video');
      if (!v?.poster) return false;
      const img = new Image();
      img.src = v.poster;
      await img.decode();
      return v.readyState >= 1;
    }, undefined, { timeout: 30_000 });
    // Headless Chrome keeps a loading spinner on a never-played video's controls: play and pause once (muted).
    await page.evaluate(async () => {
      const v = document.querySelector('video')!;
      v.muted = true;
      await v.play().catch(() => {});
      v.pause();
      v.currentTime = 0;
    });
    await page.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 2, undefined, { timeout: 10_000 });
    await page.waitForTimeout(500);
    const state = await page.evaluate(() => {
      const v = document.querySelector('video')!;
      return { readyState: v.readyState, networkState: v.networkState, duration: v.duration };
    });
    assert.ok(Math.abs(state.duration - 6) < 0.15, `crossfades overlap inside the photos: 4 x 1.5 s = 6 s, got ${state.duration}`);
    // Playwright's frozen animations would freeze Chrome's media-controls spinner on screen.
    await screenshot(page, 'readme-done', false, 'allow');
    await page.close();
  });

  it('paste and drop add photos; Cancel keeps the job, and Create again sends only what was not uploaded', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize(VIEWPORTS.desktop);
    await page.goto(stack.url);
    await page.getByLabel('Choose images').waitFor({ state: 'attached' }); // mounted after config.json
    const red = (await readFile(img.red!)).toString('base64');
    const blue = (await readFile(img.blue!)).toString('base64');
    // Paste (Ctrl+V of a copied image) and a drop on the zone, as the browser delivers them.
    // (No named helpers inside evaluate: tsx would wrap them in a __name() the page does not have.)
    await page.evaluate(
      ([redB64, blueB64]) => {
        const [pasted, dropped] = [
          [redB64!, 'image.png', 'image/png'],
          [blueB64!, 'dropped.webp', 'image/webp'],
        ].map(([b64, name, type]) => new File([Uint8Array.from(atob(b64!), (c) => c.charCodeAt(0))], name!, { type }));
        const paste = new DataTransfer();
        paste.items.add(pasted!);
        window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: paste, bubbles: true, cancelable: true }));
        const drop = new DataTransfer();
        drop.items.add(dropped!);
        const zone = document.querySelector('label[for="file-input"]')!.parentElement!;
        zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: drop, bubbles: true, cancelable: true }));
        zone.dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
      },
      [red, blue],
    );
    const added = await names(page);
    assert.equal(added.length, 2);
    assert.match(added[0]!, /^pasted-\d+-1\.png$/, 'a pasted screenshot gets a unique name');
    assert.equal(added[1], 'dropped.webp');

    // Hold the second photo's upload until Cancel.
    const posts = new Map<string, number>();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding = true;
    let releaseAgain!: () => void;
    const heldAgain = new Promise<void>((r) => (releaseAgain = r));
    await page.route(`${stack.s3Url}/**`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const key = /name="key"\r\n\r\n([^\r]+)/.exec(route.request().postDataBuffer()?.toString('latin1') ?? '')?.[1] ?? '?';
      const index = key.slice(-3);
      posts.set(index, (posts.get(index) ?? 0) + 1);
      if (index === '001' && holding) {
        await held;
        return route.abort().catch(() => {});
      }
      if (index === '001') await heldAgain; // the resumed upload, until the page has been looked at
      return route.continue();
    });
    await page.getByLabel('Video size', { exact: true }).selectOption('480p');
    await page.getByLabel('Seconds per photo', { exact: true }).fill('1');
    await page.getByRole('button', { name: 'Create video' }).click();
    await page.getByText('1 of 2 photos done').waitFor();
    assert.equal(await page.locator('[data-status="done"]').count(), 1);
    assert.equal(await page.locator('[data-status="uploading"]').count(), 1);
    await screenshot(page, '03b-upload-per-file');
    await audit(page, 'upload in progress, per file');
    const jobId = new URL(page.url()).searchParams.get('job');
    assert.ok(jobId);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Create video' }).waitFor();
    assert.equal(new URL(page.url()).searchParams.get('job'), null);
    assert.equal((await names(page)).length, 2, 'the photos are still there');
    holding = false;
    release();

    await page.getByRole('button', { name: 'Create video' }).click();
    // Resumed: the photo already uploaded shows as done, the page follows the queue again.
    await page.getByText('1 of 2 photos done').waitFor();
    assert.equal(await page.locator('[data-status="done"]').count(), 1);
    assert.equal(await page.locator('[data-status="uploading"]').count(), 1);
    releaseAgain();
    await page.getByRole('heading', { name: 'Your video is ready' }).waitFor({ timeout: 120_000 });
    assert.equal(new URL(page.url()).searchParams.get('job'), jobId, 'the same job was resumed');
    assert.deepEqual(Object.fromEntries(posts), { '000': 1, '001': 2 }, 'the photo that was uploaded was not sent again');
    assert.match(await page.getByTestId('video-facts').innerText(), /^0:02 · 854×480 · /);
    await page.close();
  });

  it('reorders by touch-dragging the handle on a phone', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize(VIEWPORTS.phone);
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 1 });
    await page.goto(stack.url);
    await page.getByLabel('Choose images').setInputFiles([img.red!, img.green!, img.blue!]);
    assert.deepEqual(await names(page), ['red.png', 'green.jpg', 'blue.webp']);
    const handle = (await page.getByTestId('drag-handle').nth(0).boundingBox())!;
    const last = (await page.locator('[data-id]').nth(2).boundingBox())!;
    const x = handle.x + handle.width / 2;
    const from = handle.y + handle.height / 2;
    const to = last.y + last.height - 4;
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', y: number) =>
      cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y }] });
    await touch('touchStart', from);
    for (let i = 1; i <= 10; i++) await touch('touchMove', from + ((to - from) * i) / 10);
    await touch('touchEnd', to);
    assert.deepEqual(await names(page), ['green.jpg', 'blue.webp', 'red.png']);
    await page.close();
  });
});
