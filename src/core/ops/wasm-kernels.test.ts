import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installFastWasmKernels, installStockWasmKernels } from './wasm-kernels';
import { Rng } from '../rng';

type Out = tf.Tensor | tf.Tensor[];

/** Runs `f` on the cpu backend (tfjs' reference kernels) and on WASM with the JS kernels; returns both results' values and dtypes. */
async function onBoth(f: () => Out): Promise<{
  cpu: { v: number[]; shape: number[]; dtype: string }[];
  wasm: { v: number[]; shape: number[]; dtype: string }[];
}> {
  const read = async (out: Out) => {
    const ts = Array.isArray(out) ? out : [out];
    const r = await Promise.all(
      ts.map(async (t) => ({ v: Array.from(await t.data()), shape: t.shape, dtype: t.dtype })),
    );
    tf.dispose(ts);
    return r;
  };
  await tf.setBackend('cpu');
  const cpu = await read(f());
  await tf.setBackend('wasm');
  const wasm = await read(f());
  return { cpu, wasm };
}

async function expectSameAsCpu(f: () => Out): Promise<void> {
  const { cpu, wasm } = await onBoth(f);
  expect(wasm.map((w) => w.shape)).toEqual(cpu.map((c) => c.shape));
  expect(wasm.map((w) => w.dtype)).toEqual(cpu.map((c) => c.dtype));
  // Bit for bit: these kernels only move data, or (CropAndResize) do the cpu kernel's own arithmetic.
  wasm.forEach((w, i) => expect(w.v).toEqual(cpu[i].v));
}

const rng = new Rng(11);
const floats = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
const ints = (n: number, hi: number) => Int32Array.from({ length: n }, () => rng.int(hi));

describe('fast WASM kernels', () => {
  let before = '';
  beforeAll(async () => {
    before = tf.getBackend();
    await tf.setBackend('wasm');
    expect(installFastWasmKernels().sort()).toEqual([
      'CropAndResize',
      'GatherV2',
      'PadV2',
      'Slice',
      'SplitV',
      'TopK',
      'Unpack',
    ]);
  });
  afterAll(async () => {
    installStockWasmKernels();
    if (before) await tf.setBackend(before);
  });

  it('installs once, and puts the stock kernels back on request', async () => {
    const k = tf.getKernel('GatherV2', 'wasm');
    installFastWasmKernels();
    expect(tf.getKernel('GatherV2', 'wasm')).toBe(k);
    installStockWasmKernels();
    const stock = tf.getKernel('GatherV2', 'wasm');
    expect(stock).not.toBe(k);
    installFastWasmKernels();
    expect(tf.getKernel('GatherV2', 'wasm')).not.toBe(stock);
  });

  it('GatherV2 equals cpu: rows, inner axis, batchDims 1, int32, bool (stock), repeated and empty index lists, 1-D', async () => {
    const x = floats(7 * 5 * 3);
    const xi = ints(7 * 5, 100);
    await expectSameAsCpu(() => tf.gather(tf.tensor2d(x.subarray(0, 35), [7, 5]), tf.tensor1d([6, 0, 0, 3], 'int32')));
    await expectSameAsCpu(() => tf.gather(tf.tensor3d(x, [7, 5, 3]), tf.tensor1d([4, 1, 1], 'int32'), 1));
    await expectSameAsCpu(() =>
      tf.gather(
        tf.tensor3d(x, [7, 5, 3]),
        tf.tensor2d([0, 2, 4, 1, 1, 1, 3, 0, 2, 4, 4, 0, 1, 2], [7, 2], 'int32'),
        1,
        1,
      ),
    );
    await expectSameAsCpu(() => tf.gather(tf.tensor2d(xi, [7, 5], 'int32'), tf.tensor1d([2, 2, 5], 'int32')));
    await expectSameAsCpu(() =>
      tf.gather(
        tf.tensor2d(
          Array.from(xi, (v) => v % 2),
          [7, 5],
          'bool',
        ),
        tf.tensor1d([1, 6], 'int32'),
      ),
    );
    await expectSameAsCpu(() => tf.gather(tf.tensor2d(x.subarray(0, 35), [7, 5]), tf.tensor1d([], 'int32')));
    await expectSameAsCpu(() => tf.gather(tf.tensor1d(x.subarray(0, 9)), tf.tensor1d([8, 0, 4], 'int32')));
    // A 640-row gather from a 2,400×128 bank (the selection's), where slices are long enough for set().
    const bank = floats(2400 * 128);
    const idx = ints(640, 2400);
    await expectSameAsCpu(() => tf.gather(tf.tensor2d(bank, [2400, 128]), tf.tensor1d(idx, 'int32')));
  });

  it('GatherV2 refuses an index outside the axis with the stock message', () => {
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    expect(() => tf.gather(x, tf.tensor1d([2], 'int32'))).toThrow('GatherV2: the index value 2 is not in [0, 1]');
    expect(() => tf.gather(x, tf.tensor1d([-1], 'int32'))).toThrow('is not in [0, 1]');
    x.dispose();
  });

  it('PadV2 equals cpu: ranks 1–4, one-sided and zero paddings, constants, int32, bool (stock), empty', async () => {
    const x = floats(3 * 4 * 5 * 2);
    const xi = ints(24, 50);
    await expectSameAsCpu(() => tf.pad(tf.tensor1d(x.subarray(0, 6)), [[2, 1]], 0.5));
    await expectSameAsCpu(() =>
      tf.pad(
        tf.tensor2d(x.subarray(0, 12), [3, 4]),
        [
          [0, 2],
          [1, 0],
        ],
        -3,
      ),
    );
    await expectSameAsCpu(() =>
      tf.pad(tf.tensor4d(x, [3, 4, 5, 2]), [
        [0, 0],
        [1, 1],
        [2, 1],
        [0, 0],
      ]),
    );
    await expectSameAsCpu(() =>
      tf.pad(
        tf.tensor4d(x, [3, 4, 5, 2]),
        [
          [1, 0],
          [0, 0],
          [0, 0],
          [0, 3],
        ],
        7,
      ),
    );
    await expectSameAsCpu(() =>
      tf.pad(tf.tensor4d(x, [3, 4, 5, 2]), [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ]),
    );
    await expectSameAsCpu(() =>
      tf.pad(
        tf.tensor3d(xi, [2, 3, 4], 'int32'),
        [
          [1, 1],
          [0, 2],
          [1, 0],
        ],
        9,
      ),
    );
    await expectSameAsCpu(() =>
      tf.pad(tf.tensor2d([1, 0, 1, 1], [2, 2], 'bool'), [
        [1, 0],
        [0, 1],
      ]),
    );
    await expectSameAsCpu(() =>
      tf.pad(
        tf.tensor2d([], [0, 3]),
        [
          [1, 1],
          [0, 1],
        ],
        2,
      ),
    );
  });

  it('Slice, split and unstack equal cpu: row blocks, inner windows, single elements, negative sizes, int32, bool (stock), empty', async () => {
    const x = floats(4 * 5 * 6 * 3);
    const xi = ints(30, 1000);
    const x4 = () => tf.tensor4d(x, [4, 5, 6, 3]);
    await expectSameAsCpu(() => tf.slice(tf.tensor2d(x.subarray(0, 60), [20, 3]), [7, 0], [9, 3])); // a block of bank rows
    await expectSameAsCpu(() => tf.slice(x4(), [1, 2, 1, 0], [2, 3, 4, 3]));
    await expectSameAsCpu(() => tf.slice(x4(), [0, 0, 0, 1], [-1, -1, -1, 2]));
    await expectSameAsCpu(() => tf.slice(x4(), [3, 4, 5, 2], [1, 1, 1, 1]));
    await expectSameAsCpu(() => tf.slice(tf.tensor1d(x.subarray(0, 10)), 4, 5));
    await expectSameAsCpu(() => tf.slice(tf.tensor2d(xi, [5, 6], 'int32'), [1, 2], [3, 2]));
    await expectSameAsCpu(() => tf.slice(tf.tensor2d([1, 0, 1, 1, 0, 0], [2, 3], 'bool'), [0, 1], [2, 2]));
    await expectSameAsCpu(() => tf.slice(x4(), [1, 0, 0, 0], [0, 5, 6, 3]));
    await expectSameAsCpu(() => tf.split(x4(), [1, 3], 0));
    await expectSameAsCpu(() => tf.split(x4(), 3, 2));
    await expectSameAsCpu(() => tf.split(tf.tensor2d(xi, [5, 6], 'int32'), [2, -1], 1));
    await expectSameAsCpu(() => tf.unstack(x4(), 1));
    await expectSameAsCpu(() => tf.unstack(tf.tensor2d(xi, [5, 6], 'int32')));
  });

  it('UnsortedSegmentSum (absent from stock WASM) equals cpu: rows into segments, ids out of range dropped, empty segments zero, 1-D, int32', async () => {
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
    const x = floats(50 * 6);
    const ids = Int32Array.from({ length: 50 }, (_, i) => (i % 7 === 3 ? 9 : i % 7 === 5 ? -1 : rng.int(5))); // 9 and −1: dropped
    await expectSameAsCpu(() => tf.unsortedSegmentSum(tf.tensor2d(x, [50, 6]), tf.tensor1d(ids, 'int32'), 6)); // segment 5 stays empty
    await expectSameAsCpu(() => tf.unsortedSegmentSum(tf.tensor1d(x.subarray(0, 50)), tf.tensor1d(ids, 'int32'), 5));
    // int32 keeps its dtype (the TF op's contract; tfjs' cpu kernel returns float32), checked against a loop.
    const xi = ints(50 * 2, 100);
    const want = new Array<number>(10).fill(0);
    ids.forEach((s, i) => {
      if (s >= 0 && s < 5) for (let j = 0; j < 2; j++) want[s * 2 + j] += xi[i * 2 + j];
    });
    const got = tf.unsortedSegmentSum(tf.tensor2d(xi, [50, 2], 'int32'), tf.tensor1d(ids, 'int32'), 5);
    expect(got.dtype).toBe('int32');
    expect(Array.from(await got.data())).toEqual(want);
    got.dispose();
  });

  it('TopK equals cpu: random rows, ties by lower position, k = 0, k = n, k above the JS limit (stock)', async () => {
    const x = floats(5 * 300);
    await expectSameAsCpu(() => {
      const r = tf.topk(tf.tensor2d(x, [5, 300]), 11);
      return [r.values, r.indices];
    });
    // Integer-valued rows: many ties, which must come out lowest position first.
    const tied = Float32Array.from(ints(4 * 50, 6));
    for (const k of [0, 1, 7, 50]) {
      await expectSameAsCpu(() => {
        const r = tf.topk(tf.tensor2d(tied, [4, 50]), k);
        return [r.values, r.indices];
      });
    }
    await expectSameAsCpu(() => {
      const r = tf.topk(tf.tensor3d(x.subarray(0, 2 * 3 * 100), [2, 3, 100]), 80);
      return [r.values, r.indices];
    });
    await expectSameAsCpu(() => {
      const r = tf.topk(tf.tensor1d([3, -Infinity, 2, -Infinity, 3]), 5);
      return [r.values, r.indices];
    });
  });

  it('CropAndResize equals cpu bit for bit: inside, flipped, partly outside (extrapolation), single-row and 1×1 crops, nearest', async () => {
    const img = Float32Array.from({ length: 3 * 9 * 11 * 3 }, () => rng.uniform(0, 1));
    const boxes = [
      [0.1, 0.2, 0.9, 0.7],
      [0.0, 1.0, 1.0, 0.0], // flipped in x
      [-0.2, 0.3, 0.6, 1.3], // partly outside: extrapolated
      [0.5, 0.5, 0.5, 0.5],
      [0.33, 0.1, 0.34, 0.95],
    ];
    const boxInd = [0, 2, 1, 2, 0];
    for (const size of [
      [7, 5],
      [1, 6],
      [1, 1],
      [32, 32],
    ] as [number, number][]) {
      for (const method of ['bilinear', 'nearest'] as const) {
        await expectSameAsCpu(() =>
          tf.image.cropAndResize(
            tf.tensor4d(img, [3, 9, 11, 3]),
            tf.tensor2d(boxes.flat(), [5, 4]),
            tf.tensor1d(boxInd, 'int32'),
            size,
            method,
            0.25,
          ),
        );
      }
    }
  });

  it('CropAndResize on an int32 image goes to the stock kernel, which casts first', async () => {
    const img = ints(2 * 4 * 4 * 1, 255);
    const { cpu, wasm } = await onBoth(() =>
      tf.image.cropAndResize(
        tf.tensor4d(img, [2, 4, 4, 1], 'int32'),
        tf.tensor2d([0, 0, 1, 1, 0.2, 0.1, 0.7, 0.9], [2, 4]),
        tf.tensor1d([1, 0], 'int32'),
        [3, 3],
      ),
    );
    wasm[0].v.forEach((v, i) => expect(v).toBeCloseTo(cpu[0].v[i], 3));
  });

  it('leaves no tensors behind (outputs are the only new tensors, and disposing them frees them)', async () => {
    const x = tf.tensor2d(floats(40), [4, 10]);
    const idx = tf.tensor1d([1, 3], 'int32');
    const n0 = tf.memory().numTensors;
    const b0 = tf.memory().numBytes;
    const r = tf.topk(x, 3);
    const g = tf.gather(x, idx);
    const p = tf.pad(x, [
      [1, 0],
      [0, 2],
    ]);
    expect(tf.memory().numTensors - n0).toBe(4);
    tf.dispose([r.values, r.indices, g, p]);
    expect(tf.memory().numTensors).toBe(n0);
    expect(tf.memory().numBytes).toBe(b0);
    tf.dispose([x, idx]);
  });
});
