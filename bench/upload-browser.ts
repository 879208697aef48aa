/**
 * Upload decode throughput (issue 4): a folder of `--count` images through
 * the page's folder input in Debian's Chromium (decode worker:
 * createImageBitmap + OffscreenCanvas), and the same folder through the Node
 * runner's decoder (pngjs / jpeg-js). Two folders:
 *
 * - `fmnist-png`: 28×28 grey PNGs written from the built-in Fashion-MNIST
 *   file (public/datasets/fashion-mnist.bin), one sub-folder per class;
 * - `photo-jpeg`: 320×240 colour JPEGs (quality 85; smooth gradients plus
 *   noise, so they compress like photographs rather than flat colour).
 *
 * Reports images/s (wall time from handing the files to the input until the
 * summary shows, and the page's own decode rate), and main-thread long tasks
 * (> 50 ms) over that window: the page must stay responsive while decoding.
 *
 *   npx tsx bench/upload-browser.ts [--count 5000] [--no-build] [--only fmnist-png]
 * Writes bench/results/upload.json; docs/BENCHMARKS.md summarises it.
 * Generated folders are cached under $TMPDIR/clim-upload-bench.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'fflate';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { chromium } from 'playwright';
import { parseFashionMnist } from '../src/core/data/fashion-mnist';
import { Rng } from '../src/core/rng';
import { loadImages } from '../src/io/load-images';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../e2e/chromium';
import { buildApp, freePort, longTasksSince, recordLongTasks, startPreview, stopPreview } from './preview';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '5000' },
    'no-build': { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: 'bench/results/upload.json' },
  },
});
const COUNT = Number(values.count);
const ROOT = join(tmpdir(), 'clim-upload-bench');

function fmnistFolder(count: number): string {
  const dir = join(ROOT, `fmnist-png-${count}`);
  if (existsSync(join(dir, '.done'))) return dir;
  const d = parseFashionMnist(gunzipSync(readFileSync('public/datasets/fashion-mnist.bin')));
  const S = d.size;
  for (let i = 0; i < Math.min(count, d.train.n); i++) {
    const label = d.classNames[d.train.labels![i]].replace(/[^A-Za-z0-9-]+/g, '_');
    mkdirSync(join(dir, label), { recursive: true });
    const p = new PNG({ width: S, height: S, colorType: 0, inputColorType: 2, inputHasAlpha: false });
    const rgb = d.train.images.subarray(i * S * S * 3, (i + 1) * S * S * 3);
    p.data = Buffer.from(rgb);
    writeFileSync(
      join(dir, label, `${String(i).padStart(5, '0')}.png`),
      PNG.sync.write(p, { colorType: 0, inputColorType: 2, inputHasAlpha: false }),
    );
  }
  writeFileSync(join(dir, '.done'), '');
  return dir;
}

function photoFolder(count: number): string {
  const dir = join(ROOT, `photo-jpeg-${count}`);
  if (existsSync(join(dir, '.done'))) return dir;
  const rng = new Rng(1);
  const W = 320;
  const H = 240;
  const data = Buffer.alloc(W * H * 4);
  for (let i = 0; i < count; i++) {
    const label = `class-${i % 10}`;
    mkdirSync(join(dir, label), { recursive: true });
    const c0 = [rng.int(256), rng.int(256), rng.int(256)];
    const c1 = [rng.int(256), rng.int(256), rng.int(256)];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const t = (x / W + y / H) / 2;
        const o = (y * W + x) * 4;
        for (let ch = 0; ch < 3; ch++)
          data[o + ch] = Math.max(
            0,
            Math.min(255, Math.round(c0[ch] * (1 - t) + c1[ch] * t + (rng.next() - 0.5) * 24)),
          );
        data[o + 3] = 255;
      }
    }
    writeFileSync(
      join(dir, label, `${String(i).padStart(5, '0')}.jpg`),
      jpeg.encode({ data, width: W, height: H }, 85).data,
    );
  }
  writeFileSync(join(dir, '.done'), '');
  return dir;
}

interface Row {
  folder: string;
  images: number;
  where: 'chromium' | 'node';
  wallSeconds: number;
  imagesPerSecond: number;
  pageRate?: number;
  loaded: number;
  skipped: number;
  /** Main-thread long tasks from the change event on: the page's own work while decoding. */
  longTasks?: { count: number; maxMs: number };
  /** Longest task before the change event: Chromium filling the input's FileList. */
  browserFileSetMs?: number;
}

async function nodeRow(name: string, dir: string): Promise<Row> {
  const { NodeDecoder, nodeFiles } = await import('../src/cli/decode-node');
  const t0 = performance.now();
  const { files } = await nodeFiles(dir);
  const r = await loadImages(files, new NodeDecoder(), { size: 32, fit: 'crop', maxPixels: 40_000_000 });
  const secs = (performance.now() - t0) / 1000;
  return {
    folder: name,
    images: r.plan.candidates.length,
    where: 'node',
    wallSeconds: +secs.toFixed(2),
    imagesPerSecond: +(r.report.loaded / secs).toFixed(0),
    loaded: r.report.loaded,
    skipped: r.report.skipped.length,
  };
}

async function main() {
  const folders: [string, string][] = [];
  if (!values.only || values.only === 'fmnist-png') folders.push(['fmnist-png', fmnistFolder(COUNT)]);
  if (!values.only || values.only === 'photo-jpeg') folders.push(['photo-jpeg', photoFolder(COUNT)]);
  if (!values['no-build']) buildApp([]);
  const port = await freePort();
  const preview = await startPreview(port);
  const browser = await chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args: [...CHROMIUM_ARGS] });
  const rows: Row[] = [];
  try {
    for (const [name, dir] of folders) {
      const page = await browser.newPage();
      await recordLongTasks(page);
      // The file input's change event: long tasks before it are Chromium setting the 5,000 files on the input
      // (Playwright's DOM.setFileInputFiles; a user's file dialog does the same), not the page's code.
      await page.addInitScript(() =>
        document.addEventListener(
          'change',
          () => ((window as unknown as { __change: number }).__change = performance.now()),
          true,
        ),
      );
      await page.goto(`http://localhost:${port}/?backend=wasm`);
      await page.getByTestId('run-state').filter({ hasText: 'idle' }).waitFor({ timeout: 120_000 });
      const tStart = await page.evaluate(() => performance.now());
      const t0 = performance.now();
      await page.getByTestId('folder-input').setInputFiles(dir);
      await page.getByTestId('upload-loaded').waitFor({ timeout: 600_000 });
      const secs = (performance.now() - t0) / 1000;
      const text = (await page.getByTestId('upload-loaded').textContent()) ?? '';
      const all = await longTasksSince(page, tStart);
      const change = await page.evaluate(() => (window as unknown as { __change: number }).__change);
      const tasks = all.filter((e) => e.start + e.duration > change && e.start >= change - 1);
      const setFiles = all.filter((e) => !tasks.includes(e));
      const loaded = Number(/^([\d,]+) image/.exec(text)?.[1].replace(/,/g, '') ?? 0);
      const rate = Number(/· (\d+) images\/s/.exec(text)?.[1] ?? NaN);
      const skippedText = (await page.getByTestId('upload-skipped-count').count())
        ? await page.getByTestId('upload-skipped-count').textContent()
        : '0 skipped';
      rows.push({
        folder: name,
        images: COUNT,
        where: 'chromium',
        wallSeconds: +secs.toFixed(2),
        imagesPerSecond: +(loaded / secs).toFixed(0),
        pageRate: rate,
        loaded,
        skipped: Number(/^(\d+)/.exec(skippedText ?? '')?.[1] ?? 0),
        longTasks: { count: tasks.length, maxMs: Math.round(Math.max(0, ...tasks.map((t) => t.duration))) },
        browserFileSetMs: Math.round(Math.max(0, ...setFiles.map((t) => t.duration))),
      });
      console.log(JSON.stringify(rows[rows.length - 1]));
      await page.close();
      rows.push(await nodeRow(name, dir));
      console.log(JSON.stringify(rows[rows.length - 1]));
    }
  } finally {
    await browser.close();
    stopPreview(preview);
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    values.out!,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model,
        chromium: CHROMIUM_EXECUTABLE,
        count: COUNT,
        rows,
      },
      null,
      1,
    ),
  );
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
