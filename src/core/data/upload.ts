/**
 * What an upload keeps, what it skips and why, and the summary a user reads
 * after a load: the pure bookkeeping shared by the browser's decode worker
 * and the Node runner (issue 4). Decoding, hashing and file access live
 * outside src/core; they hand this module plain outcomes.
 *
 * Order of the checks, per file:
 *   hidden or system file → ignored silently (counted, never listed);
 *   not an image extension → skipped 'not-image';
 *   zero bytes → 'empty';
 *   same content as an earlier file → 'duplicate' (the first is kept);
 *   header larger than the pixel limit → 'too-large' (never decoded);
 *   decoder refuses it → 'corrupt', or 'unsupported' (a format this
 *   environment cannot decode, e.g. WebP in the Node runner).
 * Skips decided while listing, before any of this (src/io): 'symlink' (a
 * link in a folder or zip, never followed), 'encrypted' (a password-protected
 * zip entry), 'unpack-limit' (a zip entry past the unpack caps).
 * Nothing here throws for bad files: each one becomes a counted line of the
 * report and the load goes on.
 */
import { Rng } from '../rng';
import { isHiddenPath, labelsFromPaths } from './folder';
import { imageBytes } from './dataset';

export const SKIP_KINDS = [
  'not-image',
  'empty',
  'duplicate',
  'too-large',
  'corrupt',
  'unsupported',
  'encrypted',
  'unpack-limit',
  'symlink',
] as const;
export type SkipKind = (typeof SKIP_KINDS)[number];

/** Headings for the report, one per kind. */
export const SKIP_TITLES: Readonly<Record<SkipKind, string>> = {
  'not-image': 'not an image file',
  empty: 'empty file (0 bytes)',
  duplicate: 'duplicate content (kept once)',
  'too-large': 'over the pixel limit',
  corrupt: 'corrupt or truncated image',
  unsupported: 'format not decodable here',
  encrypted: 'encrypted zip entry (password-protected)',
  'unpack-limit': 'over the unpack limits (zip bomb guard)',
  symlink: 'symbolic link (not followed)',
};

export interface Skipped {
  /** Index of the file in the upload's entry list (keeps the report in folder order). */
  entry: number;
  path: string;
  kind: SkipKind;
  /** One specific sentence, e.g. "same bytes as cats/1.png" or "6000×4000 = 24.0 MP, limit 16.8 MP". */
  reason: string;
}

export interface UploadEntry {
  path: string;
  /** Bytes. */
  size: number;
}

export interface Candidate {
  /** Index into the entries given to `planUpload`. */
  entry: number;
  path: string;
  /** Class id from the folder layout, or −1 when the upload is unlabelled. */
  label: number;
}

export interface UploadPlan {
  /** Image files to hash and decode, in entry order. */
  candidates: Candidate[];
  /** Class names from the folder layout (empty when unlabelled). */
  classNames: string[];
  /** Hidden and system files, ignored without a message. */
  hiddenCount: number;
  /** Files already skipped by name or size ('not-image', 'empty'), in entry order. */
  skipped: Skipped[];
  /** Layout remarks from `labelsFromPaths` (mixed layout, nothing found). */
  notes: string[];
}

function extensionOf(path: string): string {
  const name = path.replace(/\\/g, '/').split('/').pop() ?? '';
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** Labels from the layout (`labelsFromPaths`), then the name and size checks of the module comment. */
export function planUpload(entries: UploadEntry[]): UploadPlan {
  const layout = labelsFromPaths(entries.map((e) => e.path));
  const skipped: Skipped[] = [];
  let hiddenCount = 0;
  const labelOf = new Map<number, number>();
  layout.keep.forEach((entry, i) => labelOf.set(entry, layout.labels ? layout.labels[i] : -1));
  const candidates: Candidate[] = [];
  entries.forEach(({ path, size }, entry) => {
    const label = labelOf.get(entry);
    if (label === undefined) {
      if (isHiddenPath(path)) {
        hiddenCount++;
        return;
      }
      const ext = extensionOf(path);
      skipped.push({
        entry,
        path,
        kind: 'not-image',
        reason: ext ? `.${ext} is not an image type this app reads` : 'no file extension, so not read as an image',
      });
    } else if (size === 0) {
      skipped.push({ entry, path, kind: 'empty', reason: 'the file has 0 bytes' });
    } else {
      candidates.push({ entry, path, label });
    }
  });
  const notes = layout.problems.filter((p) => !p.startsWith('no image files found'));
  return { candidates, classNames: layout.classNames, hiddenCount, skipped, notes };
}

/** Bytes an upload of `count` images at side S occupies: the host copy plus the device tensor. */
export function estimateBytes(count: number, size: number): number {
  return 2 * count * imageBytes(size);
}

/** Most images at side S that fit `budgetBytes` (see `estimateBytes`). */
export function budgetCount(budgetBytes: number, size: number): number {
  return Math.max(0, Math.floor(budgetBytes / (2 * imageBytes(size))));
}

/**
 * A seeded random subset of m of the n positions 0…n−1, sorted ascending
 * (so the images keep their folder order). m ≥ n returns all of them.
 * Partial Fisher–Yates: the first m slots of a seeded shuffle.
 */
export function seededSubset(n: number, m: number, seed: number): Int32Array {
  if (m >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  const k = Math.max(0, Math.floor(m));
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, k).sort();
}

/** "6000×4000 = 24.0 MP, over the 16.8 MP limit" — or null when within it. */
export function pixelLimitReason(width: number, height: number, maxPixels: number): string | null {
  if (width * height <= maxPixels) return null;
  const mp = (v: number) => `${(v / 1e6).toFixed(1)} MP`;
  return `${width}×${height} = ${mp(width * height)}, over the ${mp(maxPixels)} limit`;
}

/** What became of one candidate: its S×S×3 pixels, or why it was skipped. */
export type DecodeOutcome = { ok: true; rgb: Uint8Array } | { ok: false; kind: SkipKind; reason: string };

export interface LabelCount {
  name: string;
  count: number;
}

export interface UploadReport {
  /** Files seen, hidden ones included. */
  files: number;
  loaded: number;
  /** Images loaded per label (one row "all images" when unlabelled). */
  perLabel: LabelCount[];
  labelled: boolean;
  /** kNN accuracy, selection precision and purity need at least two labels. */
  evaluation: boolean;
  hiddenCount: number;
  skipped: Skipped[];
  countsByKind: Record<SkipKind, number>;
  /** Whole-upload remarks: layout, one label, subset drawn, cancelled. */
  notes: string[];
}

export interface UploadImages {
  /** loaded×S×S×3 RGB, in candidate order. */
  images: Uint8Array;
  /** loaded class ids (re-numbered over the labels that kept images), or null. */
  labels: Int32Array | null;
  classNames: string[];
  report: UploadReport;
}

/**
 * Joins the plan and the per-candidate outcomes into the images and the
 * report. `outcomes[i]` belongs to `plan.candidates[i]`; undefined means the
 * candidate was never decoded (a drawn subset left it out, or the load was
 * cancelled) and is not listed as skipped. Labels whose images were all
 * skipped are dropped and ids re-numbered; fewer than two labels left means
 * unlabelled with evaluation off, and the report says so.
 */
export function finishUpload(
  plan: UploadPlan,
  outcomes: (DecodeOutcome | undefined)[],
  size: number,
  files: number,
  extraNotes: string[] = [],
): UploadImages {
  if (outcomes.length !== plan.candidates.length)
    throw new Error(`finishUpload: ${outcomes.length} outcomes for ${plan.candidates.length} candidates`);
  const bytes = imageBytes(size);
  const skipped = [...plan.skipped];
  const okAt: number[] = [];
  outcomes.forEach((o, i) => {
    if (!o) return;
    const c = plan.candidates[i];
    if (o.ok) {
      if (o.rgb.length !== bytes)
        throw new Error(`finishUpload: ${c.path} decoded to ${o.rgb.length} bytes, expected ${bytes}`);
      okAt.push(i);
    } else skipped.push({ entry: c.entry, path: c.path, kind: o.kind, reason: o.reason });
  });
  skipped.sort((a, b) => a.entry - b.entry);

  const images = new Uint8Array(okAt.length * bytes);
  okAt.forEach((ci, j) => images.set((outcomes[ci] as { rgb: Uint8Array }).rgb, j * bytes));

  const notes = [...plan.notes];
  let labels: Int32Array | null = null;
  let classNames: string[] = [];
  if (plan.classNames.length > 0) {
    const present = [...new Set(okAt.map((ci) => plan.candidates[ci].label))].sort((a, b) => a - b);
    if (present.length >= 2) {
      const remap = new Map(present.map((old, i) => [old, i]));
      labels = Int32Array.from(okAt, (ci) => remap.get(plan.candidates[ci].label) as number);
      classNames = present.map((l) => plan.classNames[l]);
      const lost = plan.classNames.filter((_, l) => !remap.has(l));
      if (lost.length)
        notes.push(
          `label${lost.length === 1 ? '' : 's'} ${lost.join(', ')} had no loadable image and ${lost.length === 1 ? 'is' : 'are'} left out`,
        );
    } else if (present.length === 1) {
      notes.push(
        `only one label (${plan.classNames[present[0]]}) has loadable images: the images train unlabelled and evaluation is off`,
      );
    }
  } else if (okAt.length > 0 && plan.notes.length === 0) {
    notes.push('no class folders (<label>/<image>): the images train unlabelled and evaluation is off');
  }
  notes.push(...extraNotes);

  const countsByKind = Object.fromEntries(SKIP_KINDS.map((k) => [k, 0])) as Record<SkipKind, number>;
  for (const s of skipped) countsByKind[s.kind]++;
  const perLabel: LabelCount[] = labels
    ? classNames.map((name, id) => ({ name, count: labels!.reduce((a, l) => a + (l === id ? 1 : 0), 0) }))
    : [{ name: 'all images', count: okAt.length }];
  return {
    images,
    labels,
    classNames,
    report: {
      files,
      loaded: okAt.length,
      perLabel,
      labelled: labels !== null,
      evaluation: labels !== null,
      hiddenCount: plan.hiddenCount,
      skipped,
      countsByKind,
      notes,
    },
  };
}

/** The report as plain text lines (the Node runner prints these; the UI renders the same fields). */
export function formatReport(r: UploadReport): string[] {
  const lines = [
    `${r.loaded} image${r.loaded === 1 ? '' : 's'} loaded from ${r.files} file${r.files === 1 ? '' : 's'}${r.labelled ? `, ${r.perLabel.length} labels` : ', unlabelled'}`,
  ];
  for (const l of r.perLabel) lines.push(`  ${l.name}: ${l.count}`);
  const nSkipped = r.skipped.length;
  if (nSkipped) lines.push(`${nSkipped} skipped:`);
  for (const k of SKIP_KINDS) {
    const of = r.skipped.filter((s) => s.kind === k);
    if (!of.length) continue;
    lines.push(`  ${SKIP_TITLES[k]} (${of.length}):`);
    for (const s of of) lines.push(`    ${s.path}: ${s.reason}`);
  }
  if (r.hiddenCount) lines.push(`${r.hiddenCount} hidden or system file${r.hiddenCount === 1 ? '' : 's'} ignored`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines;
}
