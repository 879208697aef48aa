/**
 * Browser timing of the Clusters map (issue 5: "handles 20,000 points
 * without freezing the page"): in Debian's Chromium, through the Vite dev
 * server (which serves src/ modules one by one), for N random points in 10
 * groups on a 900×420 CSS-px canvas at device pixel ratio 1 and 2:
 * a full redraw (src/ui/scatter-draw.ts drawPoints, median of 20),
 * fitting + grid build (scatter-geometry.ts), and 1,000 hover lookups.
 *   npx tsx bench/map-draw.ts [N=20000]
 */
import { spawn } from 'node:child_process';
import { chromium } from 'playwright';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../e2e/chromium';
import { freePort, stopPreview } from './preview';

async function main() {
  const n = Number(process.argv[2] ?? 20000);
  const port = await freePort();
  const server = spawn('npx', ['vite', '--port', String(port), '--strictPort'], { stdio: 'ignore', detached: true });
  try {
    for (let t = 0; ; t++) {
      try {
        if ((await fetch(`http://localhost:${port}/`)).ok) break;
      } catch {
        // not up yet
      }
      if (t > 240) throw new Error('vite dev server did not start');
      await new Promise((r) => setTimeout(r, 250));
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args: [...CHROMIUM_ARGS] });
    for (const dpr of [1, 2]) {
      const page = await browser.newPage({ deviceScaleFactor: dpr });
      await page.goto(`http://localhost:${port}/`);
      // A string, not a function: tsx would wrap a function's inner closures in helpers the page lacks.
      const r = (await page.evaluate(`(async ({ n, dpr }) => {
        const draw = await import('/src/ui/scatter-draw.ts');
        const geo = await import('/src/ui/scatter-geometry.ts');
        const W = 900;
        const H = 420;
        const c = document.createElement('canvas');
        c.width = W * dpr;
        c.height = H * dpr;
        document.body.appendChild(c);
        const ctx = c.getContext('2d');
        let s = 1;
        const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
        const xy = Float32Array.from({ length: 2 * n }, () => rnd() * 2 - 1 + (rnd() - 0.5));
        const groups = Int32Array.from({ length: n }, () => Math.floor(rnd() * 10));
        let t0 = performance.now();
        const screen = geo.toScreen(xy, geo.fitToCanvas(xy, W, H, 10));
        const grid = new geo.GridIndex(screen, W, H, 16);
        const buckets = draw.bucketByGroup(groups, n);
        const prepMs = performance.now() - t0;
        const times = [];
        for (let k = 0; k < 21; k++) {
          const ms = draw.drawPoints(ctx, screen, buckets, W, H, dpr, 2.6);
          // Include rasterisation: getImageData of one pixel waits for the drawing to finish.
          t0 = performance.now();
          ctx.getImageData(0, 0, 1, 1);
          times.push(ms + performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        t0 = performance.now();
        let found = 0;
        for (let q = 0; q < 1000; q++) if (grid.nearest(rnd() * W, rnd() * H, 10) >= 0) found++;
        const hoverMs = performance.now() - t0;
        return { drawMedianMs: times[10], drawMaxMs: times[20], prepMs, hover1000Ms: hoverMs, found };
      })(${JSON.stringify({ n, dpr })})`)) as {
        drawMedianMs: number;
        drawMaxMs: number;
        prepMs: number;
        hover1000Ms: number;
        found: number;
      };
      console.log(
        `N=${n} dpr=${dpr}: redraw median ${r.drawMedianMs.toFixed(1)} ms (max ${r.drawMaxMs.toFixed(1)}), fit+grid+buckets ${r.prepMs.toFixed(1)} ms, 1000 hover lookups ${r.hover1000Ms.toFixed(1)} ms`,
      );
      await page.close();
    }
    await browser.close();
  } finally {
    stopPreview(server);
  }
}
void main();
