import { useEffect, useState, type ReactNode } from 'react';
import { useClim } from './store';
import {
  elapsedAt,
  epochOf,
  etaSeconds,
  formatBytes,
  formatCount,
  formatDuration,
  formatEpoch,
  imagesPerSecond,
  pageHeapBytes,
} from './status';
import { fixed, percent } from './format';

/**
 * performance.now(), refreshed every `ms` while `active`: only a redraw
 * trigger for the clocks. The times shown come from wall-clock deltas
 * (status.ts), so a throttled timer in a hidden tab cannot make them wrong.
 */
function useNow(active: boolean, ms: number): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(performance.now()), ms);
    return () => clearInterval(t);
  }, [active, ms]);
  return now;
}

function Item({ term, title, children }: { term: string; title?: string; children: ReactNode }) {
  return (
    <div title={title}>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/**
 * The status bar: backend, run state, step of total and epoch, speed,
 * training time and time left, memory in the worker (tensors) and on the
 * page (JS heap, where the browser tells), loss and the latest kNN accuracy.
 * Only the run state is a live region: the numbers change several times a
 * second and would drown a screen reader.
 */
export function StatusBar() {
  const backend = useClim((s) => s.backend);
  const adapter = useClim((s) => s.adapter);
  const fallback = useClim((s) => s.isFallbackAdapter);
  const runState = useClim((s) => s.runState);
  const step = useClim((s) => s.step);
  const totalSteps = useClim((s) => s.config.totalSteps);
  const batchSize = useClim((s) => s.config.batchSize);
  const trainSize = useClim((s) => s.trainSize);
  const lastLoss = useClim((s) => (s.metrics.length ? s.metrics[s.metrics.length - 1].loss : null));
  const sps = useClim((s) => s.stepsPerSecond);
  const clock = useClim((s) => s.clock);
  const mem = useClim((s) => s.workerMemory);
  const datasetId = useClim((s) => s.datasetId);
  const lastEval = useClim((s) => (s.evals.length ? s.evals[s.evals.length - 1] : null));
  const running = runState === 'running';
  const now = useNow(running, 1000);

  const rate = running ? sps : null;
  const eta = running ? etaSeconds(step, totalSteps, sps) : null;
  const heap = pageHeapBytes(typeof performance === 'undefined' ? undefined : performance);

  return (
    <dl className="status">
      <Item term="Backend">
        <span data-testid="backend">{backend ?? 'starting…'}</span>
        {adapter && (
          <span className="adapter" data-testid="adapter">
            {' '}
            ({adapter}
            {fallback ? ', software' : ''})
          </span>
        )}
      </Item>
      <div>
        <dt>State</dt>
        <dd data-testid="run-state" aria-live="polite">
          {runState}
        </dd>
      </div>
      <Item
        term="Step"
        title={`Steps done of the schedule's ${formatCount(totalSteps)} (learning-rate schedule length)`}
      >
        <span data-testid="step">{step}</span>
        <span className="adapter">
          {' / '}
          <span data-testid="total-steps">{formatCount(totalSteps)}</span>
        </span>
      </Item>
      <Item
        term="Epoch"
        title={
          trainSize
            ? `${formatCount(step)} steps × ${batchSize} images / ${formatCount(trainSize)} training images`
            : 'Known once the data set is loaded'
        }
      >
        <span data-testid="epoch">{formatEpoch(epochOf(step, batchSize, trainSize))}</span>
      </Item>
      <Item term="Loss">
        <span data-testid="last-loss">{fixed(lastLoss, 4)}</span>
      </Item>
      <Item term="Steps/s">
        <span data-testid="steps-per-second">{fixed(sps, sps !== null && sps < 1 ? 3 : 1)}</span>
      </Item>
      <Item term="Images/s" title="Training images per second over the last ~10 s, reports included">
        <span data-testid="images-per-second">{fixed(imagesPerSecond(rate, batchSize), 0)}</span>
      </Item>
      <Item term="Elapsed" title="Training time of this run; pauses and set-up not counted">
        <span data-testid="elapsed">{formatDuration(elapsedAt(clock, now))}</span>
      </Item>
      <Item term="Left" title={`Estimated time to step ${formatCount(totalSteps)} at the recent rate`}>
        <span data-testid="eta">{eta === null ? '—' : formatDuration(eta * 1000)}</span>
      </Item>
      <Item
        term="Memory"
        title="Worker: bytes and count of live tfjs tensors. Page: JavaScript heap in use (Chrome only)."
      >
        <span data-testid="tensor-memory">
          {mem ? `${formatBytes(mem.numBytes)} · ${formatCount(mem.numTensors)} tensors` : '—'}
        </span>
        {heap !== null && (
          <span className="adapter" data-testid="page-heap">
            {' '}
            · page {formatBytes(heap)}
          </span>
        )}
      </Item>
      {lastEval && lastEval.knnTop1 !== null && (
        <Item term="kNN top-1" title={`Weighted kNN accuracy on held-out images at step ${lastEval.step}`}>
          <span data-testid="knn">
            {percent(lastEval.knnTop1)} <span className="adapter">@ {lastEval.step}</span>
          </span>
        </Item>
      )}
      {datasetId && (
        <Item term="Data">
          <span data-testid="dataset">{datasetId}</span>
        </Item>
      )}
    </dl>
  );
}
