/** The starting-weights choice in words (EncoderChoice), tested without a DOM. */
import type { InitWeightsState } from './store';
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
  return `A small encoder trained${steps} on this set${knn}; the bank and clusters are built with it before the first step, so the Positives view shows trained neighbours from its first snapshot.`;
}
