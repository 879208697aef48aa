/**
 * The folder-load summary the runner's JSON report records: its own module so
 * that ablation.ts and train.ts, which both write it, do not import each other.
 */
import type { SkipKind } from '../core/data/upload';
import type { Fit } from '../io/load-images';

/** What the JSON report records about a folder or .zip load. */
export interface LoadSummary {
  path: string;
  fit: Fit;
  files: number;
  loaded: number;
  hidden: number;
  skipped: Record<SkipKind, number>;
  seconds: number;
}
