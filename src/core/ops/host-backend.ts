/**
 * Whether the active tfjs backend keeps tensors in ordinary host memory
 * (WASM, cpu) rather than on a GPU. Several of the engine's fast paths
 * depend on it: there a transposed matMul operand, a sliced bank block or a
 * GatherV2 costs real copies or slow kernels, and a readback costs nothing.
 */
import * as tf from '@tensorflow/tfjs';

export function isHostBackend(): boolean {
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}
