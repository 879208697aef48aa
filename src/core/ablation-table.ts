/**
 * The ablation's arms and its table (CSV, Markdown): the parts of
 * src/core/ablation.ts without tfjs, so the page (which never imports tfjs)
 * can list the arms and write the CSV of rows the worker reports.
 */
import type { MixMode, SelectionMode } from './config';
import { csvCell, escapeControl } from './text';

/** One arm: a partial config over the ablation's base, plus how many crop resolutions it trains with. */
export interface AblationVariant {
  id: string;
  label: string;
  selection: SelectionMode;
  mix: MixMode;
  /**
   * `single`: the base's first resolution only. `multi`: that resolution and a
   * smaller second one (§5, `multiResolutions`). Every arm pins this, so the
   * base's own resolution list never decides on its own which arms are multi-resolution.
   */
  resolutions: 'single' | 'multi';
}

/**
 * The default arms. The 4 × 2 grid of selection × mixture isolates §3 and §4
 * (with `none` + `cutmix`, CutMix mixes two views of the anchor itself, so
 * mixing alone is measured too). The last arm adds §5's second resolution to
 * the full method, against `center-wise+cutmix` at one resolution: all
 * other arms train at one resolution, because a second one makes each step much slower
 * (docs/BENCHMARKS.md §M11) and the CPU budget (30 min for the whole table on a 2-core
 * machine, see `ablationBaseConfig`) cannot pay it nine times.
 */
export const ABLATION_VARIANTS: readonly AblationVariant[] = Object.freeze([
  { id: 'moco-v2', label: 'MoCo v2 (no selection, no mixing)', selection: 'none', mix: 'none', resolutions: 'single' },
  {
    id: 'moco-v2+cutmix',
    label: 'MoCo v2 + CutMix of two views',
    selection: 'none',
    mix: 'cutmix',
    resolutions: 'single',
  },
  { id: 'knn', label: 'kNN positives', selection: 'knn', mix: 'none', resolutions: 'single' },
  { id: 'knn+cutmix', label: 'kNN positives + CutMix', selection: 'knn', mix: 'cutmix', resolutions: 'single' },
  { id: 'cluster', label: 'cluster positives', selection: 'cluster', mix: 'none', resolutions: 'single' },
  {
    id: 'cluster+cutmix',
    label: 'cluster positives + CutMix',
    selection: 'cluster',
    mix: 'cutmix',
    resolutions: 'single',
  },
  { id: 'center-wise', label: 'center-wise positives', selection: 'center-wise', mix: 'none', resolutions: 'single' },
  {
    id: 'center-wise+cutmix',
    label: 'CLIM: center-wise + CutMix, 1 resolution',
    selection: 'center-wise',
    mix: 'cutmix',
    resolutions: 'single',
  },
  {
    id: 'center-wise+cutmix+multires',
    label: 'CLIM: center-wise + CutMix, 2 resolutions',
    selection: 'center-wise',
    mix: 'cutmix',
    resolutions: 'multi',
  },
] satisfies AblationVariant[]);

/**
 * Steps per arm when the runner is not given --steps: with
 * `ablationBaseConfig` on the built-in Fashion-MNIST set (10k + 2k) the nine
 * default arms fit in 30 minutes on this project's 2-core machine (WASM),
 * with a margin, even while other jobs shared the cores: measured per arm
 * and in all in docs/BENCHMARKS.md §M11
 * (bench/results/ablation-fashion-mnist.json). The margin absorbs such sharing.
 */
export const ABLATION_DEFAULT_STEPS = 600;

/** At most this many steps per arm in the app (a typo of 200000 would run for days); the worker and the form both check it. */
export const ABLATION_MAX_STEPS = 20_000;

export const ABLATION_IDS: readonly string[] = Object.freeze(ABLATION_VARIANTS.map((v) => v.id));

/** One line of the ablation table. Accuracies are fractions in [0, 1]. */
export interface AblationRow {
  id: string;
  label: string;
  /** Weighted cosine kNN top-1 on the held-out split after the last step (§6). */
  knnTop1: number | null;
  /** Linear-probe top-1 on the held-out split after the last step. */
  linearTop1: number | null;
  /**
   * Mean of the per-step selection precision (share of positives p ≠ i with
   * the anchor's label) over the steps after CLIM's warm-up; null when no such
   * step chose a positive (selection `none`, an unlabelled set, or a budget
   * inside the warm-up).
   */
  precision: number | null;
  /** Mean per-step coverage (anchors with a non-empty kept set) over the same window; null for selection `none`, which selects nothing. */
  coverage: number | null;
  /** Mean loss of the last 20 steps (fewer when the run is shorter); null for 0 steps. */
  finalLoss: number | null;
  alignment: number | null;
  uniformity: number | null;
  clusterNmi: number | null;
  /**
   * Precision of plain kNN's and of center-wise's kept sets on the final bank
   * and clusters, over the same probe anchors (rule-comparison.ts): the
   * paper's claim, measured for every arm whatever rule it trained with.
   */
  knnRulePrecision: number | null;
  centerWiseRulePrecision: number | null;
  /** Wall time of the arm: trainer set-up, training and the full evaluation. */
  seconds: number;
  steps: number;
}

/** The raw-pixel baseline as the tables show it. */
export interface AblationBaseline {
  knnTop1: number | null;
  k: number;
  tau: number;
}

export const ABLATION_CSV_HEADER =
  'id,label,steps,knn_top1,linear_top1,precision,coverage,final_loss,alignment,uniformity,cluster_nmi,knn_rule_precision,center_wise_rule_precision,seconds';

const csvNum = (v: number | null, digits = 6): string => (v === null ? '' : Number(v.toFixed(digits)).toString());

/** One line per arm under `ABLATION_CSV_HEADER`; empty cells for nulls; a final newline. */
export function ablationCsv(rows: readonly AblationRow[]): string {
  const lines = rows.map((r) =>
    [
      csvCell(r.id),
      csvCell(r.label),
      String(r.steps),
      csvNum(r.knnTop1),
      csvNum(r.linearTop1),
      csvNum(r.precision),
      csvNum(r.coverage),
      csvNum(r.finalLoss),
      csvNum(r.alignment),
      csvNum(r.uniformity),
      csvNum(r.clusterNmi),
      csvNum(r.knnRulePrecision),
      csvNum(r.centerWiseRulePrecision),
      csvNum(r.seconds, 1),
    ].join(','),
  );
  return [ABLATION_CSV_HEADER, ...lines].join('\n') + '\n';
}

const pct = (v: number | null): string => (v === null ? '—' : `${(100 * v).toFixed(1)}%`);
const num = (v: number | null, d: number): string => (v === null ? '—' : v.toFixed(d));

/**
 * A Markdown table (one row per arm: kNN top-1, linear top-1, selection
 * precision, coverage, final loss, alignment, uniformity, cluster NMI, the
 * final kNN and center-wise rule precision, time)
 * and, under it, the raw-pixel baseline on the same split when given.
 */
export function ablationMarkdown(rows: readonly AblationRow[], baseline: AblationBaseline | null): string {
  const head =
    '| arm | kNN top-1 | linear top-1 | selection precision | coverage | final loss | alignment | uniformity | cluster NMI | kNN rule precision | center-wise rule precision | time |';
  const rule = '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';
  const body = rows.map(
    (r) =>
      `| ${escapeControl(r.label).replace(/\|/g, '\\|')} (\`${escapeControl(r.id)}\`) | ${pct(r.knnTop1)} | ${pct(r.linearTop1)} | ${pct(r.precision)} | ${pct(r.coverage)} | ${num(r.finalLoss, 3)} | ${num(r.alignment, 3)} | ${num(r.uniformity, 3)} | ${num(r.clusterNmi, 3)} | ${pct(r.knnRulePrecision)} | ${pct(r.centerWiseRulePrecision)} | ${r.seconds.toFixed(0)} s |`,
  );
  const lines = [head, rule, ...body];
  if (baseline)
    lines.push(
      '',
      `Raw-pixel kNN baseline (same split, k = ${baseline.k}, τ = ${baseline.tau}): ${pct(baseline.knnTop1)} top-1.`,
    );
  return lines.join('\n') + '\n';
}
