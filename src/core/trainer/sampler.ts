/**
 * Seeded index draws of a run: the epoch permutation the anchors come from
 * (§1) and the fixed subsets the views probe (map, rule comparison).
 */
import type { Rng, RngState } from '../rng';

/** `max` distinct indices of 0..n−1 drawn with `rng` (partial Fisher–Yates), ascending; all of them when max ≥ n. */
export function sampleSubset(n: number, max: number, rng: Rng): Int32Array {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  if (max >= n) return all;
  for (let i = 0; i < max; i++) {
    const j = i + rng.int(n - i);
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, Math.max(0, max)).sort();
}

/** Seeded sampling of anchors without replacement, one permutation per epoch. */
export class EpochSampler {
  private order: Int32Array;
  private pos = 0;
  epoch = 0;

  constructor(
    private readonly n: number,
    private readonly rng: Rng,
  ) {
    this.order = this.shuffled();
  }

  private shuffled(): Int32Array {
    const o = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) o[i] = i;
    return this.rng.shuffle(o) as Int32Array;
  }

  /** Everything the next draws depend on (checkpoints). */
  getState(): { order: Int32Array; pos: number; epoch: number; rng: RngState } {
    return { order: Int32Array.from(this.order), pos: this.pos, epoch: this.epoch, rng: this.rng.getState() };
  }

  setState(st: { order: Int32Array; pos: number; epoch: number; rng: RngState }): void {
    if (st.order.length !== this.n)
      throw new Error(`sampler state has ${st.order.length} indices for ${this.n} images`);
    this.order = Int32Array.from(st.order);
    this.pos = st.pos;
    this.epoch = st.epoch;
    this.rng.setState(st.rng);
  }

  /** b distinct indices (b ≤ n); an epoch boundary inside a batch reshuffles without repeating an index in that batch. */
  next(b: number): Int32Array {
    const out = new Int32Array(b);
    const seen = new Set<number>();
    let i = 0;
    while (i < b) {
      if (this.pos >= this.n) {
        this.order = this.shuffled();
        this.pos = 0;
        this.epoch++;
      }
      const v = this.order[this.pos++];
      if (seen.has(v)) continue;
      seen.add(v);
      out[i++] = v;
    }
    return out;
  }
}
