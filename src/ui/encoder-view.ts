/** The starting-weights choice in words (EncoderChoice), tested without a DOM. */
import type { InitWeightsState, UiRunState } from './store';
import type { InitWeightsInfo } from '../worker/protocol';

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** "Encoder: trained (fashion-mnist-encoder, 400 steps)" / "Encoder: my.climweights (…)" / "Encoder: random init". */
export function encoderLabel(w: InitWeightsState | null): string {
  if (!w) return 'Encoder: random init';
  const steps = w.steps !== undefined ? `${w.steps} steps` : null;
  if (w.source === 'builtin') return `Encoder: trained (${[w.name, steps].filter(Boolean).join(', ')})`;
  return `Encoder: ${w.name}${steps ? ` (${steps})` : ''}`;
}

/** The checkbox's one-line hint; the steps and accuracy once the file has said them. */
export function encoderHint(info: InitWeightsInfo | null): string {
  const steps = info?.steps !== undefined ? ` for ${info.steps} steps` : '';
  const knn = typeof info?.knnTop1 === 'number' ? ` (kNN top-1 ${pct(info.knnTop1)})` : '';
  return `A small encoder trained${steps} on this set${knn}; the bank and clusters are built with it as soon as it is chosen, so the Positives and Clusters views show trained neighbours before the first step.`;
}

/**
 * Under the encoder line: what the views show of an opened model (the
 * worker builds its run at step 0 at once, engine-setup.ts showOpenedModel),
 * so a user who opened a model trained elsewhere knows the Positives and
 * Clusters views are that model, not training; null when there is nothing
 * to say (random init, or once training has moved on from the model).
 */
export function openedModelNote(
  w: InitWeightsState | null,
  run: { runState: UiRunState; step: number; shown: boolean },
): string | null {
  if (!w || run.step > 0) return null;
  if (run.runState === 'preparing') return 'Embedding the bank with this model and running k-means…';
  if (!run.shown) return null;
  return 'Positives and Clusters show this model as opened: step 0, its bank embedded and clustered, nothing trained yet. Start trains on from it.';
}
