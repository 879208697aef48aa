/**
 * Top-k down the columns of an N×B matrix, for the kNN over the memory bank
 * (METHOD §3 step 1).
 *
 * Why: on WASM the similarity block comes out of XNNPACK as N×B (bank rows
 * × queries: the bank as the product's row operand is the fast order, see
 * ops/matmul.ts), and TopK works along rows. Turning a 60,000×64 block
 * around cost a Transpose and then the stock TopK every CLIM step
 * (docs/BENCHMARKS.md §M2). This kernel reads the block in memory order and keeps a sorted
 * k-list per column, which a value enters only if it beats that column's
 * current k-th: one pass, no copy. From 4,096 rows, XNNPACK's max pool first
 * takes each column's maximum over blocks of 16 rows, and the JS pass reads
 * only the blocks that can hold a top-k value (topKColumnsBlockedInto).
 *
 * Other backends (GPU: shared memory and parallel sorts; cpu: tests) run the
 * same contract as transpose + tf.topk, which is also the test's reference.
 */
import * as tf from '@tensorflow/tfjs';
import { wasmBackendLoaded, type WasmHeapBackend } from './wasm-heap';

export const TOPK_COLUMNS = 'ClimTopKColumns';

/**
 * Puts v (row r) into the descending k-list at values/indices[o … o+k),
 * dropping its last entry: v goes after every entry ≥ v, so equal values
 * keep row order. The caller has checked that v beats the k-th. Returns the
 * new k-th value.
 */
function insertSorted(values: Float32Array, indices: Int32Array, o: number, k: number, v: number, r: number): number {
  let pos = k - 1;
  while (pos > 0 && values[o + pos - 1] < v) {
    values[o + pos] = values[o + pos - 1];
    indices[o + pos] = indices[o + pos - 1];
    pos--;
  }
  values[o + pos] = v;
  indices[o + pos] = r;
  return values[o + k - 1];
}

/**
 * x: N×B row-major. For each column c, values[c·k …] and indices[c·k …] get
 * its k largest entries, by value descending and, among equal values, by row
 * ascending (tf.topk's order on cpu, WebGL and WASM, which `knn` relies on).
 * Entries that are −∞ or NaN only fill places no other entry takes, in row
 * order (−∞ first), as a sort would place them.
 */
export function topKColumnsInto(
  x: Float32Array,
  n: number,
  b: number,
  k: number,
  values: Float32Array,
  indices: Int32Array,
): void {
  if (k === 0 || b === 0) return;
  values.fill(-Infinity);
  indices.fill(-1);
  // kth[c]: column c's current k-th value; −∞ while it has fewer than k entries.
  const kth = new Float32Array(b).fill(-Infinity);
  for (let r = 0; r < n; r++) {
    const row = r * b;
    for (let c = 0; c < b; c++) {
      const v = x[row + c];
      if (v > kth[c]) kth[c] = insertSorted(values, indices, c * k, k, v, r);
    }
  }
  for (let c = 0; c < b; c++) fillNonFinite(x, n, b, c, k, values, indices);
}

/** Column c with fewer than k entries in its list: −∞ rows, then NaN rows, in row order, fill the rest. */
function fillNonFinite(
  x: Float32Array,
  n: number,
  b: number,
  c: number,
  k: number,
  values: Float32Array,
  indices: Int32Array,
): void {
  const o = c * k;
  let m = 0;
  while (m < k && indices[o + m] >= 0) m++;
  for (const wantNaN of [false, true]) {
    for (let r = 0; r < n && m < k; r++) {
      const v = x[r * b + c];
      if (wantNaN ? v !== v : v === -Infinity) {
        values[o + m] = v;
        indices[o + m++] = r;
      }
    }
  }
}

/** Inserts rows [r0, r1) of column c into its sorted k-list at values/indices[c·k …] (the rule of topKColumnsInto). */
function scanColumn(
  x: Float32Array,
  b: number,
  c: number,
  k: number,
  r0: number,
  r1: number,
  values: Float32Array,
  indices: Int32Array,
): void {
  const o = c * k;
  let kth = values[o + k - 1];
  for (let r = r0; r < r1; r++) {
    const v = x[r * b + c];
    if (v > kth) kth = insertSorted(values, indices, o, k, v, r);
  }
}

/**
 * topKColumnsInto with a pre-pass: blockMax (⌊N/block⌋×B) holds each
 * column's maximum over every `block` consecutive rows. The k-th largest
 * block maximum τ is at most the column's k-th largest value (k blocks each
 * hold a value ≥ τ), so only blocks whose maximum is ≥ τ (and the rows after
 * the last whole block) can hold the top k. Scanning those in row order
 * gives exactly topKColumnsInto's result, ties included. A column whose τ is
 * not finite, or whose block maxima hold a NaN, is scanned whole.
 */
export function topKColumnsBlockedInto(
  x: Float32Array,
  n: number,
  b: number,
  k: number,
  blockMax: Float32Array,
  block: number,
  values: Float32Array,
  indices: Int32Array,
): void {
  const nb = b === 0 ? 0 : blockMax.length / b;
  if (k === 0 || b === 0) return;
  if (nb < k) {
    topKColumnsInto(x, n, b, k, values, indices);
    return;
  }
  const tauVals = new Float32Array(b * k);
  topKColumnsInto(blockMax, nb, b, k, tauVals, new Int32Array(b * k));
  values.fill(-Infinity);
  indices.fill(-1);
  for (let c = 0; c < b; c++) {
    const tau = tauVals[c * k + k - 1];
    let nan = false;
    for (let blk = 0; blk < nb && !nan; blk++) nan = blockMax[blk * b + c] !== blockMax[blk * b + c];
    if (nan || !(tau > -Infinity)) {
      // The rare whole-column case (−∞ or NaN around): the plain pass over this column.
      scanColumn(x, b, c, k, 0, n, values, indices);
      fillNonFinite(x, n, b, c, k, values, indices);
      continue;
    }
    for (let blk = 0; blk < nb; blk++) {
      if (blockMax[blk * b + c] >= tau) scanColumn(x, b, c, k, blk * block, blk * block + block, values, indices);
    }
    scanColumn(x, b, c, k, nb * block, n, values, indices);
  }
}

/**
 * tf.topk's contract along the rows of src (rows × n) → values and indices
 * rows × k: each row is one column of the k-list pass above (a little faster
 * than the stock WASM TopK, docs/BENCHMARKS.md §M2).
 */
export function topKRowsInto(src: Float32Array, n: number, k: number, values: Float32Array, indices: Int32Array): void {
  if (k === 0) return;
  values.fill(-Infinity);
  indices.fill(-1);
  const rows = n === 0 ? 0 : src.length / n;
  for (let r = 0; r < rows; r++) {
    const row = src.subarray(r * n, (r + 1) * n);
    const v = values.subarray(r * k, (r + 1) * k);
    const i = indices.subarray(r * k, (r + 1) * k);
    scanColumn(row, 1, 0, k, 0, n, v, i);
    fillNonFinite(row, n, 1, 0, k, v, i);
  }
}

/** Rows per block of the pre-pass, and the bank size from which it pays (below it one plain pass is cheap). */
export const TOPK_BLOCK = 16;
export const TOPK_BLOCKED_FROM = 4096;

const wasmTopKColumns: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const be = backend as unknown as WasmHeapBackend;
  const x = inputs.x as tf.TensorInfo;
  const blockMax = inputs.blockMax as tf.TensorInfo | undefined;
  const { k } = attrs as unknown as { k: number };
  const [n, b] = x.shape;
  const values = be.makeOutput([b, k], 'float32');
  const indices = be.makeOutput([b, k], 'int32');
  // Views after both allocations: growing the heap detaches older views.
  const xs = be.typedArrayFromHeap(x) as Float32Array;
  const vs = be.typedArrayFromHeap(values) as Float32Array;
  const is = be.typedArrayFromHeap(indices) as Int32Array;
  if (blockMax)
    topKColumnsBlockedInto(xs, n, b, k, be.typedArrayFromHeap(blockMax) as Float32Array, TOPK_BLOCK, vs, is);
  else topKColumnsInto(xs, n, b, k, vs, is);
  return [values, indices];
};

let enabled = true;

/** Switched with the other JS kernels by ops/wasm-kernels.ts (A/B benchmarks and tests). */
export function enableTopkColumnsKernel(on: boolean): void {
  enabled = on;
}

function ensureRegistered(): boolean {
  if (!wasmBackendLoaded()) return false;
  if (!tf.getKernel(TOPK_COLUMNS, 'wasm'))
    tf.registerKernel({ kernelName: TOPK_COLUMNS, backendName: 'wasm', kernelFunc: wasmTopKColumns });
  return true;
}

/**
 * x: N×B float32, 0 ≤ k ≤ N → values B×k (descending) and indices B×k int32
 * (rows of x): the same as tf.topk(xᵀ, k) with sorted output. Not
 * differentiable (selection reads similarities, it does not train them).
 * The caller owns both tensors.
 */
export function topkColumns(x: tf.Tensor2D, k: number): { values: tf.Tensor2D; indices: tf.Tensor2D } {
  const [n, b] = x.shape;
  if (!Number.isInteger(k) || k < 0 || k > n)
    throw new Error(`topkColumns: k = ${k} must be a whole number from 0 to ${n}.`);
  if (enabled && tf.getBackend() === 'wasm' && x.dtype === 'float32' && ensureRegistered()) {
    const nb = Math.floor(n / TOPK_BLOCK);
    // Block maxima by XNNPACK's max pool (SIMD over the B columns as channels): one fast pass, after which
    // the JS kernel reads only the few blocks that can hold a column's top k.
    const blockMax =
      n >= TOPK_BLOCKED_FROM && nb >= k
        ? tf.tidy(() =>
            tf.reshape(
              tf.maxPool(tf.reshape(x, [1, n, 1, b]) as tf.Tensor4D, [TOPK_BLOCK, 1], [TOPK_BLOCK, 1], 'valid'),
              [nb, b],
            ),
          )
        : null;
    const inputs: tf.NamedTensorMap = blockMax ? { x, blockMax } : { x };
    const [values, indices] = tf
      .engine()
      .runKernel(TOPK_COLUMNS, inputs, { k } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    blockMax?.dispose();
    return { values: values as tf.Tensor2D, indices: indices as tf.Tensor2D };
  }
  return tf.tidy(() => {
    const top = tf.topk(tf.transpose(x), k, true);
    return { values: top.values as tf.Tensor2D, indices: top.indices as tf.Tensor2D };
  });
}
