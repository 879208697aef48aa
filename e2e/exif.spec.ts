import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';

/**
 * EXIF orientation (issue 16): a camera JPEG stored sideways with
 * orientation 6 must train the way it is seen. The fixture
 * (e2e/fixtures/make-exif-fixture.ts) is stored 64×48 with a white block in
 * its top-left corner; turned as the tag says it is 48×64 with the block
 * top-right. The page's decoder is `createImageBitmap`, whose default
 * `imageOrientation: 'from-image'` applies the tag; this checks that it does,
 * in the built app's own decode worker, and that the Node runner agrees
 * (src/cli/decode-node.test.ts checks the same box on the same file).
 */

const FIXTURE = fileURLToPath(new URL('./fixtures/exif-orientation-6.jpg', import.meta.url));
const SIZE = 64;

interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/**
 * Decodes `bytes` in a fresh copy of the production decode worker (the
 * script the page itself started, at `url`), through its own messages:
 * files → scan → decode, pad-to-square at SIZE. Returns the box (inclusive)
 * of the pixels brighter than mid-grey and the report's loaded count.
 */
async function decodeInWorker(
  page: Page,
  url: string,
  bytes: Buffer,
): Promise<{ box: Box; loaded: number; skipped: string[] }> {
  return page.evaluate(
    async ({ url, data, size }) => {
      const w = new Worker(url, { type: 'module' });
      try {
        const out = await new Promise<{ images: Uint8Array; loaded: number; skipped: string[] }>((resolve, reject) => {
          w.onerror = (e) => reject(new Error(e.message));
          w.onmessage = (ev: MessageEvent) => {
            const m = ev.data as {
              type: string;
              message?: string;
              images?: Uint8Array;
              report?: { loaded: number; skipped: { path: string; reason: string }[] };
            };
            if (m.type === 'scanned') w.postMessage({ type: 'decode', jobId: 1, size, fit: 'pad', maxPixels: 40e6 });
            else if (m.type === 'decoded')
              resolve({
                images: m.images!,
                loaded: m.report!.loaded,
                skipped: m.report!.skipped.map((s) => `${s.path}: ${s.reason}`),
              });
            else if (m.type === 'error') reject(new Error(m.message));
          };
          const file = new File([new Uint8Array(data)], 'photo.jpg', { type: 'image/jpeg' });
          w.postMessage({ type: 'files', jobId: 1, files: [{ path: 'photo.jpg', file }] });
          w.postMessage({ type: 'scan', jobId: 1, name: 'photo' });
        });
        const box = { x0: size, x1: -1, y0: size, y1: -1 };
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) {
            if (out.images[(y * size + x) * 3] <= 128) continue;
            box.x0 = Math.min(box.x0, x);
            box.x1 = Math.max(box.x1, x);
            box.y0 = Math.min(box.y0, y);
            box.y1 = Math.max(box.y1, y);
          }
        }
        return { box, loaded: out.loaded, skipped: out.skipped };
      } finally {
        w.terminate();
      }
    },
    { url, data: Array.from(bytes), size: SIZE },
  );
}

test('a JPEG with EXIF orientation 6 is decoded turned as the tag says (the corner block lands top-right)', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=wasm&config=tiny');
  await expect(page.getByTestId('run-state')).toHaveText('idle', { timeout: 60_000 });

  // Through the page: the upload loads it, and the page starts its decode worker.
  const worker = page.waitForEvent('worker', { predicate: (w) => /decode\.worker/.test(w.url()), timeout: 60_000 });
  await page.getByTestId('files-input').setInputFiles(FIXTURE);
  await expect(page.getByTestId('upload-loaded')).toContainText('1 image loaded from 1 file', { timeout: 60_000 });
  await expect(page.getByTestId('upload-skipped-count')).toHaveCount(0);
  const url = (await worker).url();

  const jpeg = readFileSync(FIXTURE);
  const turned = await decodeInWorker(page, url, jpeg);
  expect(turned.loaded).toBe(1);
  expect(turned.skipped).toEqual([]);
  // 48×64 padded to 64×64 (8 black columns each side): the block at x 40–55, y 0–15.
  expect(turned.box).toEqual({ x0: 40, x1: 55, y0: 0, y1: 15 });

  // Control: the same file without its Exif segment (bytes 2–37) is used as stored, the block top-left.
  const plain = Buffer.concat([jpeg.subarray(0, 2), jpeg.subarray(2 + 36)]);
  expect(plain.subarray(2, 4)).toEqual(Buffer.from([0xff, 0xe0])); // the JFIF segment follows SOI now
  const asStored = await decodeInWorker(page, url, plain);
  // 64×48 padded to 64×64 (8 black rows above and below): the block at x 0–15, y 8–23.
  expect(asStored.box).toEqual({ x0: 0, x1: 15, y0: 8, y1: 23 });
  expect(errors).toEqual([]);
});
