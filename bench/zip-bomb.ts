/**
 * Memory while loading a zip bomb (issue 16, item 3): a ~1 MB zip holding
 * 1 GiB of zeros as one entry `bomb/zeros.png`, next to a few real PNGs.
 * Each case runs in a fresh Node process (the peak RSS, getrusage's
 * maxrss, is per process) and loads the zip the way the Node runner does
 * (file list → loadImages with the Node decoder):
 *
 * - `before`: the old listing, fflate's `unzipSync` of the whole archive
 *   (the code this issue replaced, inlined here);
 * - `after`: src/io/zip.ts, lazy, capped unpacking at the default budget's
 *   caps (64 MiB per entry, 4 GiB in total, 1000:1 above 4 MiB).
 *
 * Three bombs: `honest` (the headers give the real size), `liar-small`
 * (the central header says 1 KiB), `liar-60MiB` (says 60 MiB, under the
 * per-entry cap, with a 1.2 MB compressed size so the declared ratio passes;
 * only the counted bytes and the live ratio check stop it).
 *
 * With `--browser` it also drops the honest bomb on the page's file input in
 * Debian's Chromium (built app, `vite preview`) and samples the summed RSS of
 * the browser's processes every 100 ms: idle, then the peak until the upload
 * summary shows; `--before-app DIR` does the same first for the app in DIR
 * (e.g. `git archive <commit> | tar -x -C DIR`, node_modules linked).
 *
 *   npx tsx bench/zip-bomb.ts [--browser [--before-app DIR]] [--no-build]
 * Writes bench/results/zip-bomb.json. Nothing big is committed: the bombs are
 * made here, 1 MiB of zeros at a time, in $TMPDIR.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Zip, ZipDeflate, ZipPassThrough, unzipSync } from 'fflate';
import { PNG } from 'pngjs';
import { NodeDecoder, nodeFiles } from '../src/cli/decode-node';
import { loadImages, type SourceFile } from '../src/io/load-images';

const MiB = 2 ** 20;
const ZEROS_MIB = 1024;

interface CaseResult {
  bomb: string;
  code: 'before' | 'after';
  zipBytes: number;
  /** RSS when the process had loaded its modules, before reading the zip. */
  rssStartMiB: number;
  /** Peak RSS of the whole process (getrusage maxrss). */
  rssPeakMiB: number;
  /** Peak minus start: what loading the zip cost. */
  rssGrowthMiB: number;
  seconds: number;
  loaded: number;
  /** How the bomb entry ended: its skip kind and reason, or what it loaded as. */
  bombOutcome: string;
}

function png(rgb: [number, number, number]): Uint8Array {
  const p = new PNG({ width: 8, height: 8 });
  for (let i = 0; i < 64; i++) p.data.set([...rgb, 255], i * 4);
  return new Uint8Array(PNG.sync.write(p));
}

/** The bomb zip: three real PNGs and `bomb/zeros.png`, 1 GiB of zeros streamed through Deflate a MiB at a time. */
function makeBomb(): Uint8Array {
  const parts: Uint8Array[] = [];
  const zip = new Zip((err, chunk) => {
    if (err) throw err;
    parts.push(chunk);
  });
  const colours: [number, number, number][] = [
    [200, 30, 30],
    [30, 200, 30],
    [30, 30, 200],
  ];
  colours.forEach((c, i) => {
    const f = new ZipPassThrough(`bomb/${i}.png`);
    zip.add(f);
    f.push(png(c), true);
  });
  const z = new ZipDeflate('bomb/zeros.png', { level: 9 });
  zip.add(z);
  const block = new Uint8Array(MiB);
  for (let i = 0; i < ZEROS_MIB; i++) z.push(block, i === ZEROS_MIB - 1);
  zip.end();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The central directory record of `name`: its position, for rewriting sizes. */
function centralRecord(zip: Uint8Array, name: string): number {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const want = new TextEncoder().encode(name);
  for (let p = zip.length - 46; p >= 0; p--) {
    if (v.getUint32(p, true) !== 0x02014b50 || v.getUint16(p + 28, true) !== want.length) continue;
    if (want.every((b, i) => zip[p + 46 + i] === b)) return p;
  }
  throw new Error(`no central record for ${name}`);
}

/** The bomb with its central header's uncompressed size (and optionally compressed size) rewritten: headers can lie. */
function lying(zip: Uint8Array, usize: number): Uint8Array {
  const out = zip.slice();
  const p = centralRecord(out, 'bomb/zeros.png');
  new DataView(out.buffer).setUint32(p + 24, usize, true);
  return out;
}

const mib = (n: number) => Math.round((n / MiB) * 10) / 10;

/** One case, in this (fresh) process. */
async function child(path: string, bomb: string, code: 'before' | 'after'): Promise<CaseResult> {
  const decoder = new NodeDecoder();
  const rssStart = process.memoryUsage().rss;
  const t0 = performance.now();
  let files: SourceFile[];
  if (code === 'before') {
    // The listing this issue replaced: the whole archive unpacked at once.
    const entries = unzipSync(new Uint8Array(readFileSync(path)));
    files = Object.entries(entries)
      .filter(([p]) => !p.endsWith('/'))
      .map(([p, data]) => ({ path: p, size: data.length, bytes: async () => data }));
  } else {
    files = (await nodeFiles(path)).files;
  }
  const r = await loadImages(files, decoder, { size: 8, fit: 'crop', maxPixels: 40e6 });
  const seconds = (performance.now() - t0) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  const s = r.report.skipped.find((x) => x.path.endsWith('zeros.png'));
  return {
    bomb,
    code,
    zipBytes: readFileSync(path).length,
    rssStartMiB: mib(rssStart),
    rssPeakMiB: mib(peak),
    rssGrowthMiB: mib(peak - rssStart),
    seconds: Math.round(seconds * 100) / 100,
    loaded: r.report.loaded,
    bombOutcome: s ? `${s.kind}: ${s.reason.split(path).join(basename(path))}` : 'not skipped',
  };
}

/** Summed RSS (MiB) of every process below `root` whose command line names chromium. */
function chromiumRssMiB(root: number): number {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  const isChromium = new Set<number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const status = readFileSync(`/proc/${d}/status`, 'utf8');
      const pid = Number(d);
      parent.set(pid, Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0));
      rss.set(pid, Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024);
      if (/chrom/i.test(readFileSync(`/proc/${d}/cmdline`, 'utf8'))) isChromium.add(pid);
    } catch {
      // the process ended meanwhile
    }
  }
  const below = (pid: number): boolean => {
    for (let p = parent.get(pid); p; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  let sum = 0;
  for (const pid of isChromium) if (below(pid)) sum += rss.get(pid) ?? 0;
  return mib(sum);
}

/**
 * The bomb through the page's file input in the app at `appDir` (built
 * there unless --no-build): the summed RSS of the browser's processes idle,
 * and its peak until the page shows the upload's report or error.
 */
async function browserCase(path: string, appDir: string): Promise<Record<string, unknown>> {
  const { chromium } = await import('playwright');
  const { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } = await import('../e2e/chromium');
  const { buildApp, freePort, startPreview, stopPreview } = await import('./preview');
  const home = process.cwd();
  process.chdir(appDir);
  try {
    buildApp();
    const port = await freePort();
    const preview = await startPreview(port);
    const browser = await chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args: [...CHROMIUM_ARGS] });
    try {
      const page = await browser.newPage();
      await page.goto(`http://localhost:${port}/?backend=wasm&config=tiny`);
      await page.getByTestId('run-state').filter({ hasText: 'idle' }).waitFor({ timeout: 60_000 });
      await new Promise((r) => setTimeout(r, 2000));
      const idle = chromiumRssMiB(process.pid);
      let peak = idle;
      const timer = setInterval(() => (peak = Math.max(peak, chromiumRssMiB(process.pid))), 100);
      const t0 = performance.now();
      await page.getByTestId('files-input').setInputFiles(path);
      const done = page.locator('[data-testid="upload-report"], [data-testid="upload-error"]').first();
      await done.waitFor({ timeout: 300_000 });
      clearInterval(timer);
      const seconds = (performance.now() - t0) / 1000;
      const shown = (await done.textContent())?.replace(/\s+/g, ' ').trim();
      return {
        app: appDir === home ? 'this checkout' : appDir,
        browser: 'Debian Chromium',
        idleMiB: idle,
        peakMiB: peak,
        growthMiB: mib((peak - idle) * MiB),
        seconds: Math.round(seconds * 100) / 100,
        shown,
      };
    } finally {
      await browser.close();
      stopPreview(preview);
    }
  } finally {
    process.chdir(home);
  }
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const [, , mode, ...rest] = process.argv;
  if (mode === '--child') {
    const [path, bomb, code] = rest;
    process.stdout.write(JSON.stringify(await child(path, bomb, code as 'before' | 'after')));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'clim-zip-bomb-'));
  try {
    const honest = makeBomb();
    const bombs: Record<string, Uint8Array> = {
      honest,
      'liar-small': lying(honest, 1024),
      'liar-60MiB': lying(honest, 60 * MiB),
    };
    const results: CaseResult[] = [];
    for (const [bomb, bytes] of Object.entries(bombs)) {
      const path = join(dir, `${bomb}.zip`);
      writeFileSync(path, bytes);
      for (const code of ['before', 'after'] as const) {
        const c = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', path, bomb, code], {
          encoding: 'utf8',
          maxBuffer: 16 * MiB,
        });
        if (c.status !== 0) throw new Error(`${bomb}/${code} failed: ${c.stderr}`);
        const r = JSON.parse(c.stdout) as CaseResult;
        results.push(r);
        console.log(
          `${bomb.padEnd(11)} ${code.padEnd(6)} peak ${r.rssPeakMiB} MiB (+${r.rssGrowthMiB}) in ${r.seconds} s, ${r.loaded} loaded; ${r.bombOutcome}`,
        );
      }
    }
    const out: Record<string, unknown> = {
      bench: 'zip-bomb',
      date: new Date().toISOString(),
      node: process.version,
      zipBytes: honest.length,
      unpackedBytes: ZEROS_MIB * MiB,
      node_runner: results,
    };
    if (process.argv.includes('--browser')) {
      // --before-app DIR: a checkout of the code before this change (git archive), measured the same way.
      const at = process.argv.indexOf('--before-app');
      const browser: Record<string, unknown> = {};
      if (at > 0) browser.before = await browserCase(join(dir, 'honest.zip'), process.argv[at + 1]);
      browser.after = await browserCase(join(dir, 'honest.zip'), process.cwd());
      console.log('browser', browser);
      out.browser = browser;
    }
    writeFileSync('bench/results/zip-bomb.json', `${JSON.stringify(out, null, 2)}\n`);
    console.log('wrote bench/results/zip-bomb.json');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
