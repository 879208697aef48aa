/**
 * Top-k down the columns of an N×B matrix, for the kNN over the memory bank
 * (CLIM-SPEC §3 step 1).
 *
 * Why: on WASM the similarity block comes out of XNNPACK as N×B (bank rows
 * × queries: the bank as the product's row operand is the fast order, see
 * ops/matmul.ts), and TopK works along rows. Turning a 60,000×64 block
 * around cost a Transpose of 12–20 ms and the stock TopK another 20 ms per
 * CLIM step. This kernel reads the block once in memory order and keeps a
 * sorted k-list per column, which a value enters only if it beats that
 * column's current k-th: one pass, no copy.
 *
 * Other backends (GPU: shared memory and parallel sorts; cpu: tests) run the
 * same contract as transpose + tf.topk, which is also the test's reference.
 */
import * as tf from '@tensorflow/tfjs';

export const TOPK_COLUMNS = 'ClimTopKColumns';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * x: N×B row-major. For each column c, values[c·k …] and indices[c·k …] get
 * its k largest entries, by value descending and, among equal values, by row
 * ascending (tf.topk's order on cpu, WebGL and WASM, which `knn` relies on).
 * Entries that are −∞ or NaN only fill places no other entry takes, in row
 * order (−∞ first), as a sort would place them.
 */
export function topKColumnsInto(x: Float32Array, n: number, b: number, k: number, values: Float32Array, indices: Int32Array): void {
  if (k === 0 || b === 0) return;
  values.fill(-Infinity);
  indices.fill(-1);
  // kth[c]: column c's current k-th value; −∞ while it has fewer than k entries.
  const kth = new Float32Array(b).fill(-Infinity);
  for (let r = 0; r < n; r++) {
    const row = r * b;
    for (let c = 0; c < b; c++) {
      const v = x[row + c];
      if (!(v > kth[c])) continue;
      const o = c * k;
      let pos = k - 1;
      while (pos > 0 && values[o + pos - 1] < v) {
        values[o + pos] = values[o + pos - 1];
        indices[o + pos] = indices[o + pos - 1];
        pos--;
      }
      values[o + pos] = v;
      indices[o + pos] = r;
      kth[c] = values[o + k - 1];
    }
  }
  // Columns with fewer than k finite entries: −∞ rows, then NaN rows, in row order.
  for (let c = 0; c < b; c++) {
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
}

const wasmTopKColumns: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const be = backend as unknown as WasmBackendLike;
  const x = inputs.x as tf.TensorInfo;
  const { k } = attrs as unknown as { k: number };
  const [n, b] = x.shape;
  const values = be.makeOutput([b, k], 'float32');
  const indices = be.makeOutput([b, k], 'int32');
  // Views after both allocations: growing the heap detaches older views.
  topKColumnsInto(be.typedArrayFromHeap(x) as Float32Array, n, b, k, be.typedArrayFromHeap(values) as Float32Array, be.typedArrayFromHeap(indices) as Int32Array);
  return [values, indices];
};

let enabled = true;

/** Switched with the other JS kernels by ops/wasm-kernels.ts (A/B benchmarks and tests). */
export function enableTopkColumnsKernel(on: boolean): void {
  enabled = on;
}

function ensureRegistered(): boolean {
  if (!tf.getKernel('Transpose', 'wasm')) return false; // the WASM backend is not loaded in this bundle
  if (!tf.getKernel(TOPK_COLUMNS, 'wasm')) tf.registerKernel({ kernelName: TOPK_COLUMNS, backendName: 'wasm', kernelFunc: wasmTopKColumns });
  return true;
}

/**
 * x: N×B float32, 0 ≤ k ≤ N → values B×k (descending) and indices B×k int32
 * (rows of x): the same as tf.topk(xᵀ, k) with sorted output. Not
 * differentiable (selection reads similarities, it does not train them).
 * The caller owns both tensors.
 */
export function topkColumns(x: tf.Tensor2D, k: number): { values: tf.Tensor2D; indices: tf.Tensor2D } {
  const [n] = x.shape;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new Error(`topkColumns: k = ${k} must be a whole number from 0 to ${n}.`);
  if (enabled && tf.getBackend() === 'wasm' && x.dtype === 'float32' && ensureRegistered()) {
    const [values, indices] = tf.engine().runKernel(TOPK_COLUMNS, { x }, { k } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { values: values as tf.Tensor2D, indices: indices as tf.Tensor2D };
  }
  return tf.tidy(() => {
    const top = tf.topk(tf.transpose(x), k, true);
    return { values: top.values as tf.Tensor2D, indices: top.indices as tf.Tensor2D };
  });
}
