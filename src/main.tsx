import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { climStore } from './ui/store';
import { benchHookRequested, testHooksRequested } from './ui/params';
import { initialRun, installUrlSync } from './ui/url-sync';
import { installBenchHook } from './ui/bench-hook';
import type { TestFaultKind } from './worker/protocol';
import './ui/app.css';

// Connect before the first render so StrictMode's double effects cannot start two workers.
const run = initialRun(window.location.search, window.location.hash);
climStore.getState().connect(run);
installUrlSync(climStore, window, run.backend ?? null);
// `?bench=1`: read-only metrics for bench/browser.ts.
if (benchHookRequested(window.location.search)) installBenchHook(window, climStore);
// `?testhooks=1`: the end-to-end fault tests inject a NaN, a lost device or a crash.
if (testHooksRequested(window.location.search)) {
  Object.defineProperty(window, '__climTest', {
    value: Object.freeze({ fault: (kind: TestFaultKind) => climStore.getState().injectTestFault(kind) }),
  });
}

const root = document.getElementById('root');
if (!root) throw new Error('index.html lacks #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
