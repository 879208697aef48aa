/**
 * Cosine k-nearest neighbours over the memory bank: step 1 of center-wise
 * local selection, N_k(i) (METHOD §3; Li et al. 2021).
 *
 * Written by hand in tfjs ops (matMul, topk, concat, gather) so that it runs
 * on whichever backend is active, GPU included, with no readback.
 */
import * as tf from '@tensorflow/tfjs';
import { matMulABt } from '../ops/matmul';
import { isHostBackend } from '../ops/host-backend';
import { topkColumns } from '../ops/topk-columns';

/** Default number of bank rows per chunk on GPU backends: a B=64 batch against 16k rows is a 4 MB similarity block. */
export const KNN_DEFAULT_CHUNK = 16384;

/**
 * Rows per chunk for the active backend. On WASM and cpu memory is plain
 * heap, and slicing the bank into blocks was the largest cost of a 60k-row
 * search (one block costs less than the slicing alone; docs/BENCHMARKS.md §M9),
 * so there the bank is searched whole up to 2^17 rows (a 32 MB block at B = 64).
 */
export function defaultKnnChunk(): number {
  return isHostBackend() ? 1 << 17 : KNN_DEFAULT_CHUNK;
}

/**
 * out[b, t] = params[b, idx[b, t]] for params B×M and idx B×k int32 → B×k.
 * Done as a 1-D gather at b·M + idx because tf.gather with batchDims = 1
 * returns wrong rows on the wasm backend (tfjs 4.22, seen for M = 36, k = 9).
 */
export function takeAlongRows(params: tf.Tensor2D, idx: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, m] = params.shape;
    const rowBase = tf.mul(tf.range(0, b, 1, 'int32'), tf.scalar(m, 'int32')).expandDims(1); // B×1
    const flat = tf.add(idx.toInt(), rowBase).reshape([-1]);
    return tf.gather(params.reshape([-1]), flat).reshape(idx.shape) as tf.Tensor2D;
  });
}

/**
 * Column positions (B×k int32) that skip each row's excluded entry in a
 * B×(k+1) candidate list: with p the first column holding exclude[b] (k+1
 * when absent, then the last candidate goes), column j maps to j + [j ≥ p].
 */
function dropExcluded(candidates: tf.Tensor2D, exclude: tf.Tensor1D, k: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [b] = candidates.shape;
    const hit = tf.cast(tf.equal(candidates, tf.reshape(exclude.toInt(), [b, 1])), 'int32'); // B×(k+1)
    // argMax returns the first maximum; the appended column of ones makes "absent" land at w.
    const first = tf.argMax(tf.concat([hit, tf.ones([b, 1], 'int32')], 1), 1).reshape([b, 1]); // B×1
    const j = tf.range(0, k, 1, 'int32').reshape([1, k]); // 1×k
    return tf.add(j, tf.cast(tf.greaterEqual(j, first), 'int32')) as tf.Tensor2D;
  });
}

/** Number of neighbours `knn` returns: k' = min(k, N − (exclude ? 1 : 0)), never below 0. */
export function knnCount(k: number, bankSize: number, excluding: boolean): number {
  return Math.max(0, Math.min(Math.floor(k), bankSize - (excluding ? 1 : 0)));
}

/**
 * Cosine kNN over a bank of L2-normalised rows (§3 step 1).
 *
 * @param query   B×D, rows L2-normalised.
 * @param bank    N×D, rows L2-normalised.
 * @param k       neighbours wanted per query.
 * @param exclude B int32 bank indices to leave out (each anchor's own row,
 *                so it is not its own neighbour), or null.
 * @param chunk   bank rows per block (default `defaultKnnChunk()`): a bank
 *                larger than that never materialises a B×N similarity
 *                matrix, only B×chunk blocks.
 * @returns indices B×k' int32 and similarities B×k' float32, sorted by
 *          descending similarity, k' = min(k, N − (exclude ? 1 : 0)). With
 *          k' = 0 (a bank of one row, excluded) both are B×0.
 *
 * Ties: the lower bank index comes first. tfjs's TopK breaks ties by the
 * lower position on cpu, webgl and wasm (checked in the tests); blocks are
 * concatenated in bank order, so position order is bank-index order in the
 * merge as well.
 *
 * The caller owns and disposes both returned tensors.
 */
export function knn(
  query: tf.Tensor2D,
  bank: tf.Tensor2D,
  k: number,
  exclude: tf.Tensor1D | null,
  chunk: number = defaultKnnChunk(),
): { indices: tf.Tensor2D; similarities: tf.Tensor2D } {
  const [b, d] = query.shape;
  const [n, bankD] = bank.shape;
  if (d !== bankD) throw new Error(`knn: query has ${d} columns but the bank has ${bankD}.`);
  if (exclude && exclude.shape[0] !== b)
    throw new Error(`knn: exclude has ${exclude.shape[0]} entries for ${b} queries.`);
  const kk = knnCount(k, n, exclude !== null);
  const step = Math.max(1, Math.floor(chunk));

  return tf.tidy(() => {
    if (kk === 0) {
      return { indices: tf.zeros([b, 0], 'int32') as tf.Tensor2D, similarities: tf.zeros([b, 0]) as tf.Tensor2D };
    }
    // Exclusion without touching the B×N block: take k'+1 candidates and drop
    // each row's excluded index afterwards (or its last candidate when the
    // excluded index is not among them). The earlier one-hot push-down over
    // B×N (oneHot, mul, add) cost more than the similarity product on WASM
    // (docs/BENCHMARKS.md §M9). Equivalent because TopK orders ties by
    // position, i.e. by bank index, with or without the excluded row.
    const want = exclude ? kk + 1 : kk; // ≤ N since kk ≤ N − 1 when excluding
    // Each block keeps only its own top-min(want, rows) candidates, so the
    // merge below sorts B × (blocks·want) numbers instead of B×N.
    const candSims: tf.Tensor2D[] = [];
    const candIdx: tf.Tensor2D[] = [];
    // On WASM/cpu the fast product order puts the bank rows first (rows×B),
    // and topkColumns reads that block as it is instead of transposing it.
    const queryT = isHostBackend() ? tf.transpose(query) : null; // D×B
    for (let start = 0; start < n; start += step) {
      const rows = Math.min(step, n - start);
      const block = start === 0 && rows === n ? bank : bank.slice([start, 0], [rows, d]);
      const top = queryT
        ? topkColumns(tf.matMul(block, queryT) as tf.Tensor2D, Math.min(want, rows))
        : tf.topk(matMulABt(query, block), Math.min(want, rows), true); // B×rows
      candSims.push(top.values as tf.Tensor2D);
      candIdx.push(
        start === 0 ? (top.indices as tf.Tensor2D) : (tf.add(top.indices, tf.scalar(start, 'int32')) as tf.Tensor2D),
      );
    }
    let indices: tf.Tensor2D;
    let similarities: tf.Tensor2D;
    if (candSims.length === 1) {
      indices = candIdx[0];
      similarities = candSims[0];
    } else {
      const allSims = tf.concat(candSims, 1);
      const allIdx = tf.concat(candIdx, 1);
      const merged = tf.topk(allSims, want, true);
      // Map positions in the candidate list back to bank indices, row by row.
      indices = takeAlongRows(allIdx, merged.indices as tf.Tensor2D);
      similarities = merged.values as tf.Tensor2D;
    }
    if (!exclude) return { indices, similarities };
    const keep = dropExcluded(indices, exclude, kk);
    return { indices: takeAlongRows(indices, keep), similarities: takeAlongRows(similarities, keep) };
  });
}
