import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mixedInfoNCE } from './infonce';
import { multiResolutionLoss, type KeyPair } from './multires';
import { Rng } from '../rng';

function unitRows(n: number, d: number, rng: Rng): tf.Tensor2D {
  const v = Array.from({ length: n }, () => {
    const row = Array.from({ length: d }, () => rng.normal());
    const norm = Math.hypot(...row);
    return row.map((x) => x / norm);
  });
  return tf.tensor2d(v.flat(), [n, d]);
}

/** R resolutions of small random inputs; queue s has queueSizes[s] rows, mask s > 0 drops random negatives (null for s = 0 and empty queues). */
function inputs(R: number, queueSizes: number[], seed: number) {
  const rng = new Rng(seed);
  const [B, d] = [4, 5];
  const queries = Array.from({ length: R }, () => unitRows(B, d, rng));
  const lambdas = Array.from({ length: R }, () => tf.tensor1d(Array.from({ length: B }, () => rng.uniform(0, 1))));
  const keys: KeyPair[] = Array.from({ length: R }, () => ({
    anchor: unitRows(B, d, rng),
    positive: unitRows(B, d, rng),
  }));
  const queues = queueSizes.map((K) => unitRows(K, d, rng));
  const masks = queueSizes.map((K, s) =>
    s > 0 && K > 0
      ? tf.tensor2d(
          Array.from({ length: B * K }, () => (rng.uniform(0, 1) < 0.3 ? -1e4 : 0)),
          [B, K],
        )
      : null,
  );
  return { queries, lambdas, keys, queues, masks };
}

/** The reference: an explicit R×R loop of mixedInfoNCE calls, each read back and averaged on the host. */
async function naive(
  x: ReturnType<typeof inputs>,
  T: number,
): Promise<{ total: number; anchor: number; positive: number }> {
  const R = x.queries.length;
  const sum = { total: 0, anchor: 0, positive: 0 };
  for (let r = 0; r < R; r++) {
    for (let s = 0; s < R; s++) {
      const l = mixedInfoNCE(
        x.queries[r],
        x.keys[s].anchor,
        x.keys[s].positive,
        x.queues[s],
        x.lambdas[r],
        T,
        x.masks[s],
      );
      sum.total += (await l.total.data())[0];
      sum.anchor += (await l.anchor.data())[0];
      sum.positive += (await l.positive.data())[0];
      tf.dispose([l.total, l.anchor, l.positive]);
    }
  }
  return { total: sum.total / (R * R), anchor: sum.anchor / (R * R), positive: sum.positive / (R * R) };
}

describe('multiResolutionLoss', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const sizes of [[7], [6, 3], [5, 0, 8]]) {
    it(`equals the mean of mixedInfoNCE over all R×R pairs (R = ${sizes.length}, queues ${sizes.join('/')})`, async () => {
      const x = inputs(sizes.length, sizes, 10 + sizes.length);
      const T = 0.2;
      const got = multiResolutionLoss(x.queries, x.lambdas, x.keys, x.queues, T, x.masks);
      const want = await naive(x, T);
      expect((await got.total.data())[0]).toBeCloseTo(want.total, 5);
      expect((await got.anchor.data())[0]).toBeCloseTo(want.anchor, 5);
      expect((await got.positive.data())[0]).toBeCloseTo(want.positive, 5);
    });
  }

  it('with one resolution is mixedInfoNCE itself, bit for bit', async () => {
    const x = inputs(1, [6], 3);
    const got = multiResolutionLoss(x.queries, x.lambdas, x.keys, x.queues, 0.1, x.masks);
    const one = mixedInfoNCE(
      x.queries[0],
      x.keys[0].anchor,
      x.keys[0].positive,
      x.queues[0],
      x.lambdas[0],
      0.1,
      x.masks[0],
    );
    expect(Array.from(await got.total.data())).toEqual(Array.from(await one.total.data()));
  });

  it("gradient wrt every query equals that of the explicit loop's mean", async () => {
    const x = inputs(2, [6, 4], 17);
    const T = 0.3;
    const loop = (qs: tf.Tensor2D[]) => {
      const terms: tf.Scalar[] = [];
      for (let r = 0; r < 2; r++)
        for (let s = 0; s < 2; s++)
          terms.push(
            mixedInfoNCE(qs[r], x.keys[s].anchor, x.keys[s].positive, x.queues[s], x.lambdas[r], T, x.masks[s]).total,
          );
      return tf.div(tf.addN(terms), 4) as tf.Scalar;
    };
    const mine = tf.grads(
      (...qs: tf.Tensor[]) => multiResolutionLoss(qs as tf.Tensor2D[], x.lambdas, x.keys, x.queues, T, x.masks).total,
    )(x.queries);
    const ref = tf.grads((...qs: tf.Tensor[]) => loop(qs as tf.Tensor2D[]))(x.queries);
    for (let r = 0; r < 2; r++) {
      const [a, b] = await Promise.all([mine[r].data(), ref[r].data()]);
      b.forEach((v, i) => expect(a[i]).toBeCloseTo(v, 5));
    }
  });

  it('rejects inputs of different resolution counts', () => {
    const x = inputs(2, [3, 3], 1);
    expect(() => multiResolutionLoss(x.queries, x.lambdas.slice(0, 1), x.keys, x.queues, 0.2, x.masks)).toThrow(
      /needs 2/,
    );
  });
});
