/**
 * Thumbnails the page shows, copied out of the data set's bytes in the
 * worker: the page holds no copy of the data set.
 */
import type { Dataset } from '../core/data/dataset';
import type { SelectionSnapshot } from '../core/api';
import { MAX_IMAGES_PER_REQUEST, type Thumbnails } from './protocol';

/**
 * The training images a selection snapshot refers to (anchors, neighbours,
 * positives, the images nearest the anchors' cluster centres), copied out of
 * the data set's bytes: the page holds no copy of the data set.
 */
export function thumbnailsFor(d: Dataset, snap: SelectionSnapshot, nearest: Int32Array | null): Thumbnails {
  const want = new Set<number>();
  for (const a of snap.anchors) {
    want.add(a.anchor);
    if (a.positive !== null) want.add(a.positive);
    for (const nb of a.neighbours) want.add(nb.index);
  }
  // Every cluster's centre image: the Positives view shows the anchors' ones, the Clusters view all.
  if (nearest) for (const c of nearest) if (c >= 0) want.add(c);
  const index = Int32Array.from([...want].filter((i) => i >= 0 && i < d.train.n).sort((x, y) => x - y));
  const per = d.size * d.size * 3;
  const pixels = new Uint8Array(index.length * per);
  index.forEach((i, j) => pixels.set(d.train.images.subarray(i * per, (i + 1) * per), j * per));
  return { size: d.size, index, pixels };
}

/** Pixels of the given training images (valid, distinct, ascending, at most MAX_IMAGES_PER_REQUEST): map hover and galleries. */
export function imagesOf(d: Dataset, indices: number[]): Thumbnails {
  const valid = indices.filter((i) => Number.isInteger(i) && i >= 0 && i < d.train.n);
  const index = Int32Array.from([...new Set(valid)].slice(0, MAX_IMAGES_PER_REQUEST).sort((x, y) => x - y));
  const per = d.size * d.size * 3;
  const pixels = new Uint8Array(index.length * per);
  index.forEach((i, j) => pixels.set(d.train.images.subarray(i * per, (i + 1) * per), j * per));
  return { size: d.size, index, pixels };
}
