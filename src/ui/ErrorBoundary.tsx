/**
 * Error boundaries (issue 16): without one, an exception while rendering any
 * component unmounts the whole React tree and leaves a blank page, though
 * the run goes on in its worker. One boundary per pane keeps the rest of the
 * page working and says which pane failed and why; "Try again" mounts that
 * pane afresh. The app-level one is the last resort: it says the run is kept
 * and how to get back to it.
 */
import { Component, Fragment, useSyncExternalStore, type ErrorInfo, type ReactNode } from 'react';
import { truncateText } from '../core/config';

interface Props {
  /** What the user calls the part that failed ("Training", "Settings"); the app-level one is "page". */
  name: string;
  level?: 'pane' | 'app';
  children: ReactNode;
}

interface State {
  error: Error | null;
  /** Bumped by "Try again": the children's key, so they mount afresh rather than re-render with their broken state. */
  attempt: number;
}

/** Non-Error throws (a string, an object) still get a message. */
function asError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(typeof e === 'string' ? e : `a ${e === null ? 'null' : typeof e} was thrown`);
}

export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null, attempt: 0 };

  static getDerivedStateFromError(e: unknown): Partial<State> {
    return { error: asError(e) };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    // The console keeps the stack for a bug report; the page shows the message.
    console.error(
      `The ${this.props.name} ${this.props.level === 'app' ? '' : 'pane '}failed to render:`,
      error,
      info.componentStack,
    );
  }

  retry = (): void => {
    disarmRenderFault(this.props.name);
    this.setState((s) => ({ error: null, attempt: s.attempt + 1 }));
  };

  override render(): ReactNode {
    const { error, attempt } = this.state;
    const { name, level = 'pane', children } = this.props;
    if (error) return <RenderFailure name={name} level={level} error={error} onRetry={this.retry} />;
    return (
      <Fragment key={attempt}>
        {renderFaultHooks && <RenderTripwire name={name} />}
        {children}
      </Fragment>
    );
  }
}

/** What a failed part shows instead of itself: which part, the error's message, and the way back. */
export function RenderFailure({
  name,
  level,
  error,
  onRetry,
}: {
  name: string;
  level: 'pane' | 'app';
  error: Error;
  onRetry: () => void;
}) {
  const message = truncateText(error.message || error.name || 'no message', 300);
  const retry = (
    <button type="button" onClick={onRetry} data-testid="render-retry">
      Try again
    </button>
  );
  if (level === 'app') {
    return (
      <div style={{ padding: '1rem 1.5rem', maxWidth: '60rem' }}>
        <h1>CLIM Playground</h1>
        <div className="error fatal render-failure" role="alert" data-testid="render-failure" data-pane={name}>
          <div>
            <p>
              <strong>The page failed to draw:</strong> <span data-testid="render-failure-message">{message}</span>
            </p>
            <p>
              Your run is not lost: it trains in its own worker, and it is saved in this browser at every autosave and
              on Pause. Try again, or reload the page: it offers to resume the run from its last save.
            </p>
          </div>
          <span>
            {retry}{' '}
            <button type="button" onClick={() => window.location.reload()}>
              Reload the page
            </button>
          </span>
        </div>
      </div>
    );
  }
  return (
    <div className="error render-failure" role="alert" data-testid="render-failure" data-pane={name}>
      <div>
        <p>
          <strong>The {name} pane failed to draw:</strong> <span data-testid="render-failure-message">{message}</span>
        </p>
        <p>The rest of the page and the run itself are not affected.</p>
      </div>
      {retry}
    </div>
  );
}

// --- `?testhooks=1`: the end-to-end tests make a pane fail to render on demand. ---

export const RENDER_FAULT_HOOK = '__climRenderFault';
let renderFaultHooks = false;
const armed = new Set<string>();
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());
const subscribe = (l: () => void) => {
  listeners.add(l);
  return () => listeners.delete(l);
};

function disarmRenderFault(name: string): void {
  if (armed.delete(name)) notify();
}

/** Installs `window.__climRenderFault.failPane(name)`: the boundary called `name` catches a render error at once, until "Try again". */
export function installRenderFaultHook(win: Window): void {
  renderFaultHooks = true;
  if (Object.hasOwn(win, RENDER_FAULT_HOOK)) return;
  const failPane = (name: string) => {
    armed.add(String(name));
    notify();
  };
  Object.defineProperty(win, RENDER_FAULT_HOOK, { value: Object.freeze({ failPane }) });
}

/** Throws while its boundary's name is armed; stays armed through React's retry of the render, so the boundary really catches it. */
function RenderTripwire({ name }: { name: string }) {
  const on = useSyncExternalStore(subscribe, () => armed.has(name));
  if (on) throw new Error(`test render fault in “${name}” (?testhooks=1)`);
  return null;
}
