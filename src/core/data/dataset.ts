/**
 * A data set held as flat uint8 pixels, N×S×S×3 (HWC, RGB), plus optional
 * labels. Labels are only ever used to measure (kNN accuracy, selection
 * precision, cluster purity), never to train (spec §6).
 */
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
