/** What the runner's tests share: the smallest config they train, and the runner run as a user runs it. */
import { spawnSync } from 'node:child_process';

/** The smallest config the runner tests train: a 4-wide, 2-stage encoder on 16 px, steps in milliseconds. */
export const TINY = {
  width: 4,
  stemStride: 1,
  stages: 2,
  groups: 4,
  resolutions: [16],
  projHidden: 16,
  projDim: 8,
  queueSize: 16,
  batchSize: 8,
  clusters: 4,
};

/** The runner as a user runs it: its exit code, stdout and stderr. */
export function cli(args: string[], opts: { uid?: number; gid?: number } = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/train.ts', ...args], { encoding: 'utf8', ...opts });
}

/** Any character escapeControl (src/core/text.ts) escapes. */
// eslint-disable-next-line no-control-regex -- the characters a printed name must not hold
export const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** What `run` threw, or null. */
export async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}
