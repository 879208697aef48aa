/**
 * What the JavaScript WASM kernels (wasm-kernels.ts, topk-columns.ts,
 * colour-affine.ts) use of tfjs-wasm's BackendWasm: outputs allocated on the
 * WASM heap, and typed views of tensors there. Take views after the last
 * makeOutput of a kernel: growing the heap detaches older views.
 */
import * as tf from '@tensorflow/tfjs';

export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Whether '@tensorflow/tfjs-backend-wasm' is in this bundle (importing it registers its kernels). */
export function wasmBackendLoaded(): boolean {
  return tf.getKernel('Transpose', 'wasm') !== undefined;
}
