/**
 * The boundary's fallback, rendered on the server (no DOM here): which part
 * failed, the message, the way back. Catching and re-mounting in a browser is
 * e2e/hostile-runfile.spec.ts's part.
 */
import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { ErrorBoundary, RenderFailure } from './ErrorBoundary';

describe('ErrorBoundary', () => {
  it('a pane that failed: names the pane, shows the message, offers Try again', () => {
    const html = renderToStaticMarkup(
      <RenderFailure
        name="Training"
        level="pane"
        error={new TypeError("Cannot read properties of undefined (reading 'toFixed')")}
        onRetry={() => {}}
      />,
    );
    expect(html).toContain('data-pane="Training"');
    expect(html).toContain('The Training pane failed to draw:');
    expect(html).toContain('Cannot read properties of undefined (reading &#x27;toFixed&#x27;)');
    expect(html).toContain('>Try again</button>');
  });

  it('the page: says the run is saved and how to get it back, and cuts a huge message', () => {
    const html = renderToStaticMarkup(
      <RenderFailure name="page" level="app" error={new Error('x'.repeat(10_000))} onRetry={() => {}} />,
    );
    expect(html).toContain('The page failed to draw:');
    expect(html).toContain('saved in this browser at every autosave and on Pause');
    expect(html).toContain('reload the page: it offers to resume the run from its last save');
    expect(html).toContain('(10000 characters)');
    expect(html.length).toBeLessThan(2000);
  });

  it('turns any thrown value into an error with a message, and renders its fallback once it has one', () => {
    expect(ErrorBoundary.getDerivedStateFromError('plain text').error?.message).toBe('plain text');
    expect(ErrorBoundary.getDerivedStateFromError(null).error?.message).toBe('a null was thrown');
    const b = new ErrorBoundary({ name: 'Clusters', children: <p>fine</p> });
    expect(renderToStaticMarkup(<>{b.render()}</>)).toBe('<p>fine</p>');
    b.state = { error: new Error('boom'), attempt: 0 };
    const html = renderToStaticMarkup(<>{b.render()}</>);
    expect(html).toContain('The Clusters pane failed to draw:');
    expect(html).toContain('boom');
  });
});
