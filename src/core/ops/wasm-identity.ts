/**
 * A data-sharing Identity kernel for the WASM backend.
 *
 * Why: while a gradient tape records, tfjs saves every tensor an op's
 * backward pass needs as `keep(clone(t))`, and a `tf.customGrad` op's
 * `save` does the same. `clone` runs the Identity kernel. The cpu and WebGL
 * backends implement it by sharing the input's data (a reference count), as
 * WASM's own Reshape does. WASM's Identity copies the whole buffer instead,
 * so every activation saved for the backward pass was copied once per step
 * (docs/BENCHMARKS.md §M4: kernel time every step, plus the memory). Tensors are never
 * written in place, so sharing is safe, and it is what the other backends
 * already do.
 */
import * as tf from '@tensorflow/tfjs';

interface WasmBackendLike {
  incRef(dataId: object): void;
}

const sharedIdentity: tf.KernelFunc = ({ inputs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  (backend as unknown as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/**
 * Puts the sharing Identity in place of WASM's copying one. Call it after
 * '@tensorflow/tfjs-backend-wasm' is imported (importing it registers its own
 * kernels); a second call does nothing. Returns whether the kernel is now the sharing one.
 */
export function installSharedWasmIdentity(): boolean {
  const current = tf.getKernel('Identity', 'wasm');
  if (!current) return false;
  if (current.kernelFunc === sharedIdentity) return true;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: sharedIdentity });
  return true;
}
