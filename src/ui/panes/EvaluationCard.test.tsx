/**
 * Issue 16, item 1: an evaluation without its fields (a hand-edited run
 * file) made the card call toFixed on undefined and blanked the page. Server
 * rendering needs no DOM: the store's state is handed to it as the initial one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import type { EvalResult } from '../../core/api';
import { climStore } from '../store';
import { EvaluationCard } from './EvaluationCard';

const initial = climStore.getInitialState;
afterEach(() => {
  climStore.getInitialState = initial;
  climStore.setState(initial());
});

function render(evals: unknown[]): string {
  climStore.setState({ evals: evals as EvalResult[], step: 20, runState: 'paused' });
  climStore.getInitialState = () => climStore.getState();
  return renderToStaticMarkup(<EvaluationCard />);
}

describe('EvaluationCard with missing values', () => {
  it('prints a dash for each missing number instead of throwing', () => {
    const html = render([{ step: 10, linearTop1: 0.5 }]);
    expect(html).toContain('data-testid="eval-table"');
    expect(html).toContain('<td data-testid="eval-linear">50.0%</td>');
    expect(html).toContain('<td data-testid="eval-knn">—</td>');
    // Took, alignment, uniformity, NMI, ARI / purity: all dashes.
    expect(html.match(/—/g)!.length).toBeGreaterThanOrEqual(7);
  });

  it('draws no confusion table whose matrix does not fit its class count', () => {
    const html = render([
      { step: 10, linearTop1: 0.5, classes: 1e9, confusion: Int32Array.from([1, 2]) },
      { step: 12, linearTop1: 0.25, classes: 3, confusion: [1, 2] },
    ]);
    expect(html).toContain('25.0%');
    expect(html).not.toContain('data-testid="confusion"');
  });

  it('draws a good one as before', () => {
    const html = render([
      {
        step: 10,
        knnTop1: 0.5,
        linearTop1: 0.75,
        classes: 2,
        confusion: Int32Array.from([3, 1, 0, 4]),
        alignment: 0.5,
        uniformity: -2,
        clusterPurity: 0.5,
        clusterNmi: 0.25,
        clusterAri: 0.1,
        ms: 1500,
      },
    ]);
    expect(html).toContain('data-testid="confusion"');
    expect(html).toContain('<td>1.5 s</td>');
    expect(html).toContain('<td>0.250</td>');
  });
});
