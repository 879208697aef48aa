/**
 * Named starting points for a run (issue 5's presets; issue 3 benchmarks
 * `fast-demo-cpu`). A preset is a partial config over the defaults, so a
 * change of default shows up in every preset that does not pin the field.
 */
import type { ClimConfig } from './config';
import { defaultConfig } from './config';

export interface Preset {
  id: string;
  label: string;
  /** One sentence for the UI: what the preset shows or is for. */
  description: string;
  overrides: Partial<ClimConfig>;
}

export const PRESETS: readonly Preset[] = Object.freeze([
  {
    id: 'clim-paper',
    label: 'CLIM (paper)',
    description:
      "The paper's method: center-wise positives from the anchor's kNN within its cluster, CutMix of anchor and positive, two resolutions.",
    overrides: {},
  },
  {
    id: 'clim-cpu',
    label: 'CLIM (CPU-sized)',
    description:
      "The paper's selection and mixing at one 24-px resolution and batch 32: steps about four times faster, so a CPU-only run passes the raw pixels' kNN accuracy within its default length. The page starts with it when no GPU backend is available.",
    // Measured (docs/BENCHMARKS.md, "The default run on a CPU"): the two-resolution
    // default at 1,000 steps ended below the raw pixels; this run crosses them.
    overrides: {
      resolutions: [24],
      batchSize: 32,
      queueSize: 256,
      climWarmupSteps: 50,
      kmeansEvery: 25,
      totalSteps: 6000,
    },
  },
  {
    id: 'moco-v2',
    label: 'MoCo v2 baseline',
    description:
      'Plain instance discrimination: every image is only its own positive, no mixing. The baseline CLIM improves on.',
    overrides: { selection: 'none', mix: 'none' },
  },
  {
    id: 'knn-only',
    label: 'kNN positives only',
    description:
      'Positives drawn from the k nearest neighbours, without the cluster test and without mixing (NNCLR-like).',
    overrides: { selection: 'knn', mix: 'none' },
  },
  {
    id: 'cluster-only',
    label: 'Cluster positives only',
    description: "Positives drawn from anywhere in the anchor's k-means cluster, without mixing (broad but noisy).",
    overrides: { selection: 'cluster', mix: 'none' },
  },
  {
    id: 'fast-demo-cpu',
    label: 'Fast demo (CPU)',
    // Measured in bench/: several times faster than the default step on WASM (docs/BENCHMARKS.md §M11).
    description: 'A smaller, single-resolution run that steps several times a second on a CPU-only machine.',
    overrides: {
      resolutions: [24],
      batchSize: 32,
      queueSize: 256,
      climWarmupSteps: 50,
      kmeansEvery: 25,
      totalSteps: 400,
    },
  },
  // A pair that differs in the selection rule alone (same k, no mixing, k pinned
  // so a new default cannot split them): run both and compare the precision of
  // the positives and the kNN accuracy.
  {
    id: 'lesson-center-vs-knn',
    label: 'Lesson: center-wise vs plain kNN',
    description:
      'Center-wise positives without mixing: of the anchor’s k nearest neighbours only those in its cluster and closer to the centre; compare the positives’ precision with the “plain kNN, same k” lesson run.',
    overrides: { selection: 'center-wise', mix: 'none', knnK: 10 },
  },
  {
    id: 'lesson-knn-same-k',
    label: 'Lesson: plain kNN at the same k',
    description:
      'The other half of the center-wise lesson: the same k and no mixing, but any of the k nearest neighbours may be the positive, so wrong-class neighbours get through more often.',
    overrides: { selection: 'knn', mix: 'none', knnK: 10 },
  },
]);

/** The preset a page without a chosen one starts from: the paper's on a GPU, the CPU-sized one where training runs on the CPU (WASM, plain JS, or a software GPU adapter). */
export function pageDefaultPreset(backend: string, isFallbackAdapter: boolean): 'clim-paper' | 'clim-cpu' {
  return backend === 'wasm' || backend === 'cpu' || isFallbackAdapter ? 'clim-cpu' : 'clim-paper';
}

export function getPreset(id: string): Preset {
  const p = PRESETS.find((x) => x.id === id);
  if (!p) throw new Error(`unknown preset "${id}"; known: ${PRESETS.map((x) => x.id).join(', ')}`);
  return p;
}

/** The full config of a preset (defaults + its overrides; fresh arrays). */
export function presetConfig(id: string): ClimConfig {
  const o = getPreset(id).overrides;
  return { ...defaultConfig(), ...o, resolutions: [...(o.resolutions ?? defaultConfig().resolutions)] };
}
