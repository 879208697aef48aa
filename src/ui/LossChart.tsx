import { useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { StepMetrics } from '../core/api';
import { useClim } from './store';

/** SVG cost grows with points; a few hundred show the trend of any run. */
const MAX_POINTS = 400;

export function thin(metrics: StepMetrics[], max = MAX_POINTS): { step: number; loss: number }[] {
  const stride = Math.max(1, Math.ceil(metrics.length / max));
  const out: { step: number; loss: number }[] = [];
  for (let i = 0; i < metrics.length; i += stride) out.push({ step: metrics[i].step, loss: metrics[i].loss });
  // Always end on the newest point, so the line reaches the current step.
  const last = metrics[metrics.length - 1];
  if (last && out[out.length - 1]?.step !== last.step) out.push({ step: last.step, loss: last.loss });
  return out;
}

// Four significant digits: early losses move in the third decimal and fixed
// two-decimal ticks repeated the same label.
const tick = (v: number) => String(Number(v.toPrecision(4)));

export function LossChart() {
  const metrics = useClim((s) => s.metrics);
  const data = useMemo(() => thin(metrics), [metrics]);

  return (
    <figure className="chart" data-testid="loss-chart" aria-label="Training loss by step">
      <figcaption>Loss</figcaption>
      {data.length === 0 ? (
        <p className="placeholder">No steps yet: press Start or Step.</p>
      ) : (
        <ResponsiveContainer width="100%" height={260}>
          <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} />
            <YAxis domain={['auto', 'auto']} width={56} tickFormatter={tick} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} labelFormatter={(s) => `step ${String(s)}`} />
            {/* Animation would lag behind 4 updates a second. */}
            <Line type="monotone" dataKey="loss" stroke="#2563eb" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      )}
    </figure>
  );
}
