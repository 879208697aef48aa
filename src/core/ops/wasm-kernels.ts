/**
 * JavaScript kernels for the WASM backend where tfjs-wasm's C++ ones are slow.
 *
 * Over 500 lines because it is one install path: each replaced kernel is a
 * small loop (most as a pure `…Into` function) plus its kernel wrapper, all
 * sharing the 4-byte view, stride and index helpers at the top and the one
 * REPLACEMENTS table that `installFastWasmKernels` / `installStockWasmKernels`
 * swap in and out for A/B runs; split up, that table would import from every
 * piece.
 *
 * Why (issue 3): tfjs-wasm 4.22's GatherV2, CropAndResize, PadV2 and TopK
 * address every element through generic stride loops. A plain loop over the
 * same heap memory beats them per call on the 2-core CI machine
 * (`bench/wasm-kernels.ts`, alternating calls, results checked equal; the
 * figures per kernel are in docs/BENCHMARKS.md §M1):
 *
 * - GatherV2 (the selection's neighbour rows of the bank);
 * - CropAndResize (RandomResizedCrop, 8 per step);
 * - PadV2 in H and W;
 * - TopK over a batch of rows of a 60k bank;
 * - Slice (and SplitV, Unpack, which slice once per output): the stock
 *   kernel first copies the whole input out of the heap (`readSync`) for
 *   every slice, which made taking row blocks of a 60k bank in k-means
 *   cost seconds at C = 100.
 *
 * UnsortedSegmentSum is added, not replaced: WASM has none (see k-means).
 *
 * Tried and left to the stock kernels because JS lost: Transpose (a tiled
 * JS transpose was slower than the stock one, §M1) and MirrorPad.
 * Arithmetic kernels (Conv2D, BatchMatMul, elementwise) stay XNNPACK's SIMD.
 *
 * Each kernel reads and writes the WASM heap directly, so the tensors stay
 * WASM tensors and nothing is copied out. The results equal the cpu
 * backend's bit for bit (`wasm-kernels.test.ts`; CropAndResize does the cpu
 * kernel's double-precision arithmetic, so it can differ from the stock WASM
 * kernel in the last bit). Cases a kernel does not cover (bool tensors, an
 * int32 image, k > 64, negative padding) go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { installSharedWasmIdentity } from './wasm-identity';
import { enableColourAffineKernel } from './colour-affine';
import { enableTopkColumnsKernel, topKRowsInto } from './topk-columns';
import { wasmBackendLoaded, type WasmHeapBackend } from './wasm-heap';

type Heap = Float32Array | Int32Array | Uint8Array;

/**
 * The same 4-byte elements seen as int32. Data movement copies bits, so one
 * element type serves float32 and int32 alike, and keeping every loop on one
 * typed-array type keeps V8's element accesses monomorphic (mixing
 * Float32Array and Int32Array in one function made these loops several times
 * slower, docs/BENCHMARKS.md §M1).
 */
function bits(a: Heap): Int32Array {
  return a instanceof Int32Array ? a : new Int32Array(a.buffer, a.byteOffset, a.length);
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

function rowMajorStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= shape[i];
  }
  return st;
}

/** Calls `body(srcOffset, dstOffset)` for every index over `sizes`, with per-axis source and destination strides. */
function forEachIndex(
  sizes: number[],
  srcStrides: number[],
  dstStrides: number[],
  body: (s: number, d: number) => void,
): void {
  const r = sizes.length;
  if (sizes.some((n) => n === 0)) return;
  const idx = new Array<number>(r).fill(0);
  let s = 0;
  let d = 0;
  for (;;) {
    body(s, d);
    let a = r - 1;
    for (; a >= 0; a--) {
      if (++idx[a] < sizes[a]) {
        s += srcStrides[a];
        d += dstStrides[a];
        break;
      }
      s -= srcStrides[a] * (sizes[a] - 1);
      d -= dstStrides[a] * (sizes[a] - 1);
      idx[a] = 0;
    }
    if (a < 0) return;
  }
}

function copyRun(src: Int32Array, s: number, dst: Int32Array, d: number, n: number): void {
  // A subarray + set costs more than a short loop; 64 is where they cross on V8.
  if (n >= 64) dst.set(src.subarray(s, s + n), d);
  else for (let i = 0; i < n; i++) dst[d + i] = src[s + i];
}

// ---------------------------------------------------------------- GatherV2

function gatherKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WasmHeapBackend;
  const x = args.inputs.x as tf.TensorInfo;
  const indices = args.inputs.indices as tf.TensorInfo;
  const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
  const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0];
  const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(
    x as tf.Tensor,
    indices as tf.Tensor,
    parsedAxis,
    batchDims,
  );
  const nIdx = tf.util.sizeFromShape(indices.shape) / info.batchSize;
  const out = backend.makeOutput(info.outputShape, x.dtype);
  const idx = backend.typedArrayFromHeap(indices);
  const axisDim = x.shape[parsedAxis];
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    // The stock kernel's check and message.
    if (!(v >= 0 && v <= axisDim - 1)) throw new Error(`GatherV2: the index value ${v} is not in [0, ${axisDim - 1}]`);
  }
  if (tf.util.sizeFromShape(x.shape) === 0) return out;
  const src = bits(backend.typedArrayFromHeap(x));
  const dst = bits(backend.typedArrayFromHeap(out));
  const { batchSize, outerSize, dimSize, sliceSize } = info;
  let d = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let o = 0; o < outerSize; o++) {
      const srcBase = (b * outerSize + o) * dimSize;
      for (let i = 0; i < nIdx; i++) {
        copyRun(src, (srcBase + idx[b * nIdx + i]) * sliceSize, dst, d, sliceSize);
        d += sliceSize;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- TopK

/** Above this k the k-list insertion (O(n·k) worst case) is left to the stock kernel. */
const TOPK_MAX_K = 64;

function makeTopK(stock: tf.KernelConfig): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { k } = args.attrs as { k: number; sorted: boolean };
    const x = args.inputs.x as tf.TensorInfo;
    if (k > TOPK_MAX_K || x.dtype !== 'float32') return stock.kernelFunc(args);
    const backend = args.backend as unknown as WasmHeapBackend;
    const n = x.shape[x.shape.length - 1];
    const outShape = [...x.shape.slice(0, -1), k];
    const values = backend.makeOutput(outShape, x.dtype);
    const indices = backend.makeOutput(outShape, 'int32');
    topKRowsInto(
      backend.typedArrayFromHeap(x) as Float32Array,
      n,
      k,
      backend.typedArrayFromHeap(values) as Float32Array,
      backend.typedArrayFromHeap(indices) as Int32Array,
    );
    return [values, indices];
  };
}

// ---------------------------------------------------------------- PadV2

/**
 * Constant padding: copies src into dst, which the caller has filled with the
 * constant. Trailing axes without padding form one contiguous run together
 * with the last padded axis, so a 64×16×16×16 map padded in H and W is 1,024
 * copies of 256 values.
 */
export function padInto(
  src: Int32Array,
  shape: number[],
  paddings: readonly (readonly [number, number])[],
  dst: Int32Array,
): void {
  if (tf.util.sizeFromShape(shape) === 0) return;
  const r = shape.length;
  const outShape = shape.map((s, i) => s + paddings[i][0] + paddings[i][1]);
  const outStrides = rowMajorStrides(outShape);
  let lastPadded = -1;
  for (let i = 0; i < r; i++) if (paddings[i][0] !== 0 || paddings[i][1] !== 0) lastPadded = i;
  if (lastPadded < 0) {
    copyRun(src, 0, dst, 0, src.length);
    return;
  }
  const run = tf.util.sizeFromShape(shape.slice(lastPadded));
  let start = 0;
  for (let i = 0; i < r; i++) start += paddings[i][0] * outStrides[i];
  const inStrides = rowMajorStrides(shape);
  forEachIndex(shape.slice(0, lastPadded), inStrides.slice(0, lastPadded), outStrides.slice(0, lastPadded), (s, d) =>
    copyRun(src, s, dst, start + d, run),
  );
}

function makePad(stock: tf.KernelConfig): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { paddings, constantValue } = args.attrs as { paddings: [number, number][]; constantValue: number };
    if (paddings.some(([a, b]) => a < 0 || b < 0)) return stock.kernelFunc(args);
    const backend = args.backend as unknown as WasmHeapBackend;
    const x = args.inputs.x as tf.TensorInfo;
    const out = backend.makeOutput(
      x.shape.map((s, i) => s + paddings[i][0] + paddings[i][1]),
      x.dtype,
    );
    const dst = backend.typedArrayFromHeap(out);
    dst.fill(constantValue); // in the output's own type: float bits for float32
    padInto(bits(backend.typedArrayFromHeap(x)), x.shape, paddings, bits(dst));
    return out;
  };
}

// ---------------------------------------------------------------- Slice, SplitV, Unpack

/**
 * dst = src[begin : begin + size] (row-major). Trailing axes taken whole
 * join the innermost partial axis into one contiguous run, so a block of
 * bank rows is a single copy.
 */
export function sliceInto(
  src: Int32Array,
  shape: readonly number[],
  begin: readonly number[],
  size: number[],
  dst: Int32Array,
): void {
  const r = shape.length;
  if (tf.util.sizeFromShape(size) === 0) return;
  let d = r - 1;
  while (d > 0 && size[d] === shape[d]) d--;
  const inStrides = rowMajorStrides(shape);
  const run = size[d] * inStrides[d];
  let start = 0;
  for (let i = 0; i < r; i++) start += begin[i] * inStrides[i];
  const outStrides = rowMajorStrides(size);
  forEachIndex(size.slice(0, d), inStrides.slice(0, d), outStrides.slice(0, d), (s, o) =>
    copyRun(src, start + s, dst, o, run),
  );
}

/** One slice as a new WASM tensor (the stock kernel first copies the whole input out of the heap, for every slice). */
function sliceOut(backend: WasmHeapBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  sliceInto(bits(backend.typedArrayFromHeap(x)), x.shape, begin, size, bits(backend.typedArrayFromHeap(out)));
  return out;
}

function sliceKernel(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [b, sz] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  return sliceOut(args.backend as unknown as WasmHeapBackend, x, b, sz);
}

function splitVKernel(args: KernelArgs): tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[ax] = s;
    const out = sliceOut(args.backend as unknown as WasmHeapBackend, x, begin, size);
    begin[ax] += s;
    return out;
  });
}

function unpackKernel(args: KernelArgs): tf.TensorInfo[] {
  const value = args.inputs.value as tf.TensorInfo;
  const rank = value.shape.length;
  let { axis } = args.attrs as unknown as { axis: number };
  if (axis < 0) axis += rank;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const size = [...value.shape];
  size[axis] = 1;
  const begin = new Array<number>(rank).fill(0);
  return Array.from({ length: value.shape[axis] }, (_, i) => {
    begin[axis] = i;
    const out = sliceOut(args.backend as unknown as WasmHeapBackend, value, begin, size);
    return { ...out, shape: outShape };
  });
}

// ---------------------------------------------------------------- UnsortedSegmentSum

/**
 * out[s] = Σ_{i : ids[i] = s} x[i] (rows of x: `inner` values each); ids
 * outside [0, numSegments) are dropped. Sums run in row order in doubles and
 * are rounded once, as the cpu kernel's masked sums are.
 */
export function segmentSumInto(
  x: Float32Array | Int32Array,
  ids: Int32Array,
  inner: number,
  numSegments: number,
  out: Float32Array | Int32Array,
): void {
  const acc = new Float64Array(numSegments * inner);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const o = s * inner;
    const xi = i * inner;
    for (let j = 0; j < inner; j++) acc[o + j] += x[xi + j];
  }
  for (let j = 0; j < acc.length; j++) out[j] = acc[j];
}

/**
 * Not a replacement: tfjs-wasm has no UnsortedSegmentSum at all, so k-means
 * had to form per-cluster sums as oneHot(c)ᵀ·X, an N×C×D product (768 M
 * multiply-adds per 42k-row block at C = 100) plus a transpose of the
 * one-hot block, where the sum itself is N×D additions.
 */
function segmentSumKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WasmHeapBackend;
  const x = args.inputs.x as tf.TensorInfo;
  const ids = args.inputs.segmentIds as tf.TensorInfo;
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const innerShape = x.shape.slice(ids.shape.length);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  segmentSumInto(
    backend.typedArrayFromHeap(x) as Float32Array | Int32Array,
    backend.typedArrayFromHeap(ids) as Int32Array,
    tf.util.sizeFromShape(innerShape),
    numSegments,
    backend.typedArrayFromHeap(out) as Float32Array | Int32Array,
  );
  return out;
}

// ---------------------------------------------------------------- CropAndResize

/**
 * TensorFlow's CropAndResize, the arithmetic of tfjs' cpu kernel (doubles,
 * rounded to float32 on store), so the two agree bit for bit. The x
 * positions and weights depend only on the box, so they are worked out once
 * per box, not per row and channel.
 * image B×H×W×C, boxes N×4 (y1, x1, y2, x2, normalised), boxInd N → N×ch×cw×C.
 */
export function cropAndResizeInto(
  image: Float32Array,
  imageShape: readonly number[],
  boxes: Float32Array,
  boxInd: Int32Array,
  cropH: number,
  cropW: number,
  method: 'bilinear' | 'nearest',
  extrapolation: number,
  out: Float32Array,
): void {
  const [batch, ih, iw, nc] = imageShape;
  const numBoxes = boxInd.length;
  const rowStride = iw * nc;
  const imgStride = ih * rowStride;
  const outBox = cropH * cropW * nc;
  const left = new Int32Array(cropW);
  const right = new Int32Array(cropW);
  const xLerp = new Float64Array(cropW);
  const xValid = new Uint8Array(cropW);
  for (let b = 0; b < numBoxes; b++) {
    const y1 = boxes[b * 4];
    const x1 = boxes[b * 4 + 1];
    const y2 = boxes[b * 4 + 2];
    const x2 = boxes[b * 4 + 3];
    const bi = boxInd[b];
    const ob = b * outBox;
    if (bi >= batch) {
      // The cpu kernel leaves these boxes at its buffer's zeros; the heap is not zeroed.
      out.fill(0, ob, ob + outBox);
      continue;
    }
    const hScale = cropH > 1 ? ((y2 - y1) * (ih - 1)) / (cropH - 1) : 0;
    const wScale = cropW > 1 ? ((x2 - x1) * (iw - 1)) / (cropW - 1) : 0;
    for (let x = 0; x < cropW; x++) {
      const xi = cropW > 1 ? x1 * (iw - 1) + x * wScale : 0.5 * (x1 + x2) * (iw - 1);
      xValid[x] = xi < 0 || xi > iw - 1 ? 0 : 1;
      if (method === 'bilinear') {
        left[x] = Math.floor(xi);
        right[x] = Math.ceil(xi);
        xLerp[x] = xi - left[x];
      } else {
        left[x] = Math.round(xi);
      }
    }
    const imgBase = bi * imgStride;
    for (let y = 0; y < cropH; y++) {
      const yi = cropH > 1 ? y1 * (ih - 1) + y * hScale : 0.5 * (y1 + y2) * (ih - 1);
      let o = ob + y * cropW * nc;
      if (yi < 0 || yi > ih - 1) {
        out.fill(extrapolation, o, o + cropW * nc);
        continue;
      }
      if (method === 'bilinear') {
        const top = Math.floor(yi);
        const bottom = Math.ceil(yi);
        const yLerp = yi - top;
        const topRow = imgBase + top * rowStride;
        const bottomRow = imgBase + bottom * rowStride;
        for (let x = 0; x < cropW; x++) {
          if (!xValid[x]) {
            for (let c = 0; c < nc; c++) out[o++] = extrapolation;
            continue;
          }
          const l = left[x] * nc;
          const r = right[x] * nc;
          const xl = xLerp[x];
          for (let c = 0; c < nc; c++) {
            const tl = image[topRow + l + c];
            const tr = image[topRow + r + c];
            const bl = image[bottomRow + l + c];
            const br = image[bottomRow + r + c];
            const t = tl + (tr - tl) * xl;
            const bo = bl + (br - bl) * xl;
            out[o++] = t + (bo - t) * yLerp;
          }
        }
      } else {
        const row = imgBase + Math.round(yi) * rowStride;
        for (let x = 0; x < cropW; x++) {
          if (!xValid[x]) {
            for (let c = 0; c < nc; c++) out[o++] = extrapolation;
            continue;
          }
          const l = left[x] * nc;
          for (let c = 0; c < nc; c++) out[o++] = image[row + l + c];
        }
      }
    }
  }
}

function cropAndResizeKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WasmHeapBackend;
  const { image, boxes, boxInd } = args.inputs as { image: tf.TensorInfo; boxes: tf.TensorInfo; boxInd: tf.TensorInfo };
  const { cropSize, method, extrapolationValue } = args.attrs as {
    cropSize: [number, number];
    method: 'bilinear' | 'nearest';
    extrapolationValue: number;
  };
  const [ch, cw] = cropSize;
  const out = backend.makeOutput([boxes.shape[0], ch, cw, image.shape[3]], 'float32');
  cropAndResizeInto(
    backend.typedArrayFromHeap(image) as Float32Array,
    image.shape,
    backend.typedArrayFromHeap(boxes) as Float32Array,
    backend.typedArrayFromHeap(boxInd) as Int32Array,
    ch,
    cw,
    method,
    extrapolationValue,
    backend.typedArrayFromHeap(out) as Float32Array,
  );
  return out;
}

// ---------------------------------------------------------------- install

/** The kernels this module replaces, each built from the stock config it may fall back to. */
const REPLACEMENTS: Record<string, (stock: tf.KernelConfig) => tf.KernelFunc> = {
  GatherV2: (stock) => fourByteOnly('x', stock, gatherKernel),
  TopK: makeTopK,
  Slice: (stock) => fourByteOnly('x', stock, sliceKernel),
  SplitV: (stock) => fourByteOnly('x', stock, splitVKernel as unknown as tf.KernelFunc),
  Unpack: (stock) => fourByteOnly('value', stock, unpackKernel as unknown as tf.KernelFunc),
  PadV2: (stock) => fourByteOnly('x', stock, makePad(stock)),
  CropAndResize: (stock) => (args: KernelArgs) =>
    (args.inputs.image as tf.TensorInfo).dtype === 'float32' ? cropAndResizeKernel(args) : stock.kernelFunc(args),
};

/** The loops above copy 4-byte elements; bool (1 byte) tensors go to the stock kernel. */
function fourByteOnly(input: string, stock: tf.KernelConfig, fast: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const dtype = (args.inputs[input] as tf.TensorInfo).dtype;
    return dtype === 'float32' || dtype === 'int32' ? fast(args) : stock.kernelFunc(args);
  };
}

const installed = new Map<string, { stock: tf.KernelConfig; fast: tf.KernelConfig }>();
let preferStock = false;

/**
 * For A/B tests of whole training steps: while on, `installFastWasmKernels`
 * (which Trainer.create calls) keeps or puts back WASM's own kernels.
 */
export function preferStockWasmKernels(on: boolean): void {
  preferStock = on;
  if (on) installStockWasmKernels();
}

/**
 * Puts the kernels above (and the sharing Identity of `wasm-identity.ts`) in
 * place of WASM's. Call after '@tensorflow/tfjs-backend-wasm' is imported;
 * a second call does nothing. Each keeps the stock kernel's setup, so the
 * fallbacks work whether or not the backend was initialised before.
 * Returns the kernel names now replaced.
 */
export function installFastWasmKernels(): string[] {
  installSharedWasmIdentity();
  // Added, not replaced (no stock kernel exists), so it stays in both A/B arms.
  if (wasmBackendLoaded() && !tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: segmentSumKernel });
  }
  if (preferStock) return [];
  enableColourAffineKernel(true);
  enableTopkColumnsKernel(true);
  for (const [name, make] of Object.entries(REPLACEMENTS)) {
    const current = tf.getKernel(name, 'wasm');
    if (!current || installed.get(name)?.fast === current) continue;
    const fast: tf.KernelConfig = {
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: make(current),
      setupFunc: current.setupFunc,
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(fast);
    // registerKernel stores a copy-free reference to the config object; keep it to recognise ours.
    installed.set(name, { stock: current, fast: tf.getKernel(name, 'wasm') ?? fast });
  }
  return [...installed.keys()].filter((n) => tf.getKernel(n, 'wasm') === installed.get(n)!.fast);
}

/** Puts WASM's own kernels back, and the tfjs-op paths of the two JS-only ops (tests and A/B benchmarks compare against them). */
export function installStockWasmKernels(): void {
  enableColourAffineKernel(false);
  enableTopkColumnsKernel(false);
  for (const [name, { stock }] of installed) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(stock);
  }
  installed.clear();
}
