import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { climStore } from './ui/store';
import { parseParams } from './ui/params';
import './ui/app.css';

// Connect before the first render so StrictMode's double effects cannot start two workers.
climStore.getState().connect(parseParams(window.location.search));

const root = document.getElementById('root');
if (!root) throw new Error('index.html lacks #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
