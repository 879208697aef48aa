import { Activity, useDeferredValue, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

export interface TabDef<K extends string> {
  id: K;
  label: string;
  /** The pane; a stable element (made once, not per render) lets a hidden pane skip re-rendering. */
  content: ReactNode;
}

/**
 * WAI-ARIA tabs: one tab stop, arrow keys / Home / End move between tabs
 * (automatic activation), each panel labelled by its tab.
 *
 * Switching stays under the 50 ms long-task budget while the worker trains
 * (e2e/responsiveness.spec.ts):
 * - A pane, once visited, stays mounted inside `<Activity mode="hidden">`:
 *   switching back shows its DOM again instead of rebuilding it (the charts,
 *   the Positives cards, the cluster map), and while hidden its effects and
 *   store subscriptions are disconnected, so it costs nothing while training.
 *   Panes never visited are not mounted.
 * - The tab row follows `active` at once; which pane shows follows a deferred
 *   copy, so the click's own task only re-renders the tab buttons and the
 *   pane switch is a separate, interruptible render.
 */
export function Tabs<K extends string>({
  tabs,
  active,
  onChange,
  label,
}: {
  tabs: readonly TabDef<K>[];
  active: K;
  onChange: (id: K) => void;
  label: string;
}) {
  const refs = useRef(new Map<K, HTMLButtonElement>());
  const shown = useDeferredValue(active);
  const [visited, setVisited] = useState<ReadonlySet<K>>(() => new Set([shown]));
  // Adjusting state while rendering (React's pattern for derived state): mark the shown pane visited.
  if (!visited.has(shown)) setVisited(new Set(visited).add(shown));
  const onKeyDown = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.id === active);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    const t = tabs[(next + tabs.length) % tabs.length];
    onChange(t.id);
    refs.current.get(t.id)?.focus();
  };
  const current = tabs.find((t) => t.id === active) ?? tabs[0];
  const showing = tabs.find((t) => t.id === shown) ?? tabs[0];
  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} className="tablist" onKeyDown={onKeyDown}>
        {tabs.map((t) => (
          <button
            key={t.id}
            ref={(el) => {
              if (el) refs.current.set(t.id, el);
            }}
            role="tab"
            type="button"
            id={`tab-${t.id}`}
            aria-selected={t.id === current.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={t.id === current.id ? 0 : -1}
            onClick={() => onChange(t.id)}
            data-testid={`tab-${t.id}`}
          >
            {t.label}
          </button>
        ))}
      </div>
      {tabs
        .filter((t) => t.id === showing.id || visited.has(t.id))
        .map((t) => (
          <Activity key={t.id} mode={t.id === showing.id ? 'visible' : 'hidden'}>
            <div role="tabpanel" id={`panel-${t.id}`} aria-labelledby={`tab-${t.id}`} className="tabpanel" tabIndex={0}>
              {t.content}
            </div>
          </Activity>
        ))}
    </div>
  );
}
