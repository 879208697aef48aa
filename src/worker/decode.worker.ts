/**
 * The decode worker: uploads are listed, hashed, decoded and resized here, off
 * the page's main thread and apart from the engine worker (which may be
 * training meanwhile). Decoding is the browser's own (`createImageBitmap`:
 * every format the browser reads, EXIF orientation applied by its default
 * `imageOrientation: 'from-image'`), resizing an `OffscreenCanvas` draw.
 */
/// <reference lib="webworker" />
import { squareBoxes, toRgb } from '../core/data/folder';
import type { DecodeOutcome, SkipKind } from '../core/data/upload';
import {
  loadImages,
  planSources,
  type Fit,
  type HeaderInfo,
  type ImageDecoder,
  type SourceFile,
} from '../io/load-images';
import { DEFAULT_ZIP_LIMITS, isZipName, zipEntries, zipLimits, type ZipLimits } from '../io/zip';
import type { DecodeEvent, DecodeRequest, UploadFile } from './decode-protocol';

declare const self: DedicatedWorkerGlobalScope;

function post(e: DecodeEvent, transfer: Transferable[] = []): void {
  self.postMessage(e, transfer);
}

/** Canvas decoder: box per squareBoxes, black padding, transparency over white (as toRgb). */
class CanvasDecoder implements ImageDecoder {
  private canvas: OffscreenCanvas | null = null;
  private ctx: OffscreenCanvasRenderingContext2D | null = null;

  async decode(bytes: Uint8Array, _header: HeaderInfo | null, size: number, fit: Fit): Promise<DecodeOutcome> {
    let bmp: ImageBitmap;
    try {
      // 'from-image' is the default; said here because a camera JPEG stored sideways (EXIF orientation) must train as seen (e2e/exif.spec.ts).
      bmp = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { imageOrientation: 'from-image' });
    } catch (e) {
      return {
        ok: false,
        kind: 'corrupt',
        reason: `the browser could not decode it (${e instanceof Error ? e.message : String(e)})`,
      };
    }
    try {
      const { width: w, height: h } = bmp;
      if (w < 1 || h < 1) return { ok: false, kind: 'corrupt', reason: `decoded to ${w}×${h} pixels` };
      if (!this.canvas || this.canvas.width !== size) {
        this.canvas = new OffscreenCanvas(size, size);
        this.ctx = this.canvas.getContext('2d', { willReadFrequently: true, alpha: false });
      }
      const ctx = this.ctx;
      if (!ctx) throw new Error('no 2-D canvas context in the decode worker');
      const box = squareBoxes([w], [h], fit)[0];
      const scale = size / box.w;
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, size, size);
      // The image's own area is white under it, so transparent pixels read as on a white page.
      ctx.fillStyle = '#fff';
      ctx.fillRect(-box.x * scale, -box.y * scale, w * scale, h * scale);
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(bmp, box.x, box.y, box.w, box.h, 0, 0, size, size);
      const rgba = ctx.getImageData(0, 0, size, size).data;
      return { ok: true, rgb: toRgb(rgba, 4) };
    } finally {
      bmp.close();
    }
  }
}

const decoder = new CanvasDecoder();

interface Job {
  id: number;
  name: string;
  files: SourceFile[];
  cancelled: boolean;
}
let job: Job | null = null;
/** The file list of the job being sent (`files` slices before its `scan`). */
let incoming: { id: number; files: UploadFile[] } | null = null;

function blobSource(u: UploadFile): SourceFile {
  return { path: u.path, size: u.file.size, bytes: async () => new Uint8Array(await u.file.arrayBuffer()) };
}

/**
 * Zips are expanded; a lone zip's own layout is used as is, several keep
 * apart under their names. Only headers are read here: entries are unpacked
 * when decoded, within `limits` (src/io/zip.ts).
 */
async function listFiles(files: UploadFile[], limits: ZipLimits): Promise<SourceFile[]> {
  const zips = files.filter((f) => isZipName(f.path));
  const out: SourceFile[] = [];
  for (const f of files) {
    if (!isZipName(f.path)) {
      out.push(blobSource(f));
      continue;
    }
    const prefix = zips.length === 1 && files.length === 1 ? '' : `${f.path.replace(/\.zip$/i, '')}/`;
    out.push(...zipEntries(f.path, new Uint8Array(await f.file.arrayBuffer()), prefix, limits));
  }
  return out;
}

async function handle(msg: DecodeRequest): Promise<void> {
  if (msg.type === 'cancel') {
    if (job && job.id === msg.jobId) job.cancelled = true;
    if (incoming && incoming.id === msg.jobId) incoming = null;
    return;
  }
  if (msg.type === 'files') {
    if (!incoming || incoming.id !== msg.jobId) incoming = { id: msg.jobId, files: [] };
    for (const f of msg.files) incoming.files.push(f);
    return;
  }
  if (msg.type === 'scan') {
    if (job) job.cancelled = true;
    const list = incoming && incoming.id === msg.jobId ? incoming.files : [];
    incoming = null;
    const files = await listFiles(list, msg.budgetBytes ? zipLimits(msg.budgetBytes) : DEFAULT_ZIP_LIMITS);
    job = { id: msg.jobId, name: msg.name, files, cancelled: false };
    const plan = planSources(files);
    const skipped: Partial<Record<SkipKind, number>> = {};
    for (const s of plan.skipped) skipped[s.kind] = (skipped[s.kind] ?? 0) + 1;
    post({
      type: 'scanned',
      jobId: msg.jobId,
      summary: {
        files: files.length,
        candidates: plan.candidates.length,
        labelled: plan.classNames.length > 0,
        classNames: plan.classNames,
        skipped,
      },
    });
    return;
  }
  const j = job;
  if (!j || j.id !== msg.jobId) throw new Error('nothing to decode: scan the files first');
  const r = await loadImages(j.files, decoder, {
    size: msg.size,
    fit: msg.fit,
    maxPixels: msg.maxPixels,
    concurrency: Math.max(2, Math.min(8, (self.navigator.hardwareConcurrency || 2) * 2)),
    ...(msg.subset ? { subset: msg.subset } : {}),
    isCancelled: () => j.cancelled,
    onProgress: (p) => post({ type: 'progress', jobId: j.id, ...p }),
  });
  if (job === j) job = null;
  post(
    {
      type: 'decoded',
      jobId: j.id,
      name: j.name,
      size: msg.size,
      images: r.images,
      labels: r.labels,
      classNames: r.classNames,
      report: r.report,
      ms: r.ms,
      cancelled: r.cancelled,
    },
    [r.images.buffer, ...(r.labels ? [r.labels.buffer] : [])] as ArrayBuffer[],
  );
}

self.onmessage = (ev: MessageEvent<DecodeRequest>) => {
  const msg = ev.data;
  handle(msg).catch((e: unknown) =>
    post({ type: 'error', jobId: msg.jobId, message: e instanceof Error ? e.message : String(e) }),
  );
};
