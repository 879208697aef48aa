/**
 * A data set held as flat uint8 pixels, N×S×S×3 (HWC, RGB), plus optional
 * labels. Labels are only ever used to measure (kNN accuracy, selection
 * precision, cluster purity), never to train (METHOD §6).
 */
import { fnv1a } from '../checkpoint';
export interface Split {
  /** Number of images. */
  n: number;
  /** N×S×S×3 uint8 RGB pixels, row-major. */
  images: Uint8Array;
  /** N class ids, or null for unlabelled data. */
  labels: Int32Array | null;
}

export interface Dataset {
  /** Stable id, e.g. "shapes:seed=1:n=3000". */
  id: string;
  name: string;
  /** Side length S of the stored square images. */
  size: number;
  train: Split;
  /** Held-out split for evaluation (may be empty). */
  test: Split;
  /** Names of the classes, indexed by label id; empty when unlabelled. */
  classNames: string[];
}

/** Bytes of one stored image. */
export const imageBytes = (size: number) => size * size * 3;

/**
 * The first `nTrain` / `nTest` images of each split (a split keeps all its
 * images when its count is undefined or not smaller). For files stored in a
 * shuffled order, such as `fashion-mnist`, a prefix is a random subset. The
 * id becomes `name:nTrain+nTest`, e.g. "fashion-mnist:10000+2000" → "fashion-mnist:128+64".
 */
export function takeSubset(d: Dataset, nTrain?: number, nTest?: number): Dataset {
  const cut = (s: Split, n: number | undefined): Split => {
    if (n === undefined || n >= s.n) return s;
    const k = Math.max(0, Math.floor(n));
    return {
      n: k,
      images: s.images.subarray(0, k * imageBytes(d.size)),
      labels: s.labels ? s.labels.subarray(0, k) : null,
    };
  };
  const train = cut(d.train, nTrain);
  const test = cut(d.test, nTest);
  if (train === d.train && test === d.test) return d;
  return { ...d, id: `${d.name}:${train.n}+${test.n}`, train, test };
}

const fingerprints = new WeakMap<Dataset, string>();

/**
 * Identity of a data set's contents for checkpoints (issue 6): FNV-1a over
 * every image byte and label of both splits, with the counts and image size,
 * so a run restored on another machine trains on exactly the same images in
 * the same order. Cached per object (its cost: docs/BENCHMARKS.md §M10).
 */
export function datasetFingerprint(d: Dataset): string {
  const cached = fingerprints.get(d);
  if (cached) return cached;
  let h: number | undefined;
  for (const s of [d.train, d.test]) {
    h = fnv1a(s.images, h);
    if (s.labels) h = fnv1a(new Uint8Array(s.labels.buffer, s.labels.byteOffset, s.labels.byteLength), h);
  }
  const fp = `${d.size}:${d.train.n}+${d.test.n}:${((h ?? 0) >>> 0).toString(16).padStart(8, '0')}`;
  fingerprints.set(d, fp);
  return fp;
}
