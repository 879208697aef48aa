/**
 * Numbers as the panes print them. Whatever is not a finite number (a field
 * missing from an old or edited run file, a NaN, a null "not measured")
 * prints as a dash: a pane that called toFixed on undefined took the whole
 * page down with it (issue 16).
 */
export const DASH = '—';

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** `v` with `digits` decimals. */
export const fixed = (v: unknown, digits: number): string => (finite(v) ? v.toFixed(digits) : DASH);

/** A share in [0, 1] as a percentage with `digits` decimals. */
export const percent = (v: unknown, digits = 1): string => (finite(v) ? `${(v * 100).toFixed(digits)}%` : DASH);

/** Milliseconds as seconds with `digits` decimals and the unit. */
export const seconds = (ms: unknown, digits = 1): string => (finite(ms) ? `${(ms / 1000).toFixed(digits)} s` : DASH);

/** A count or step as written (no decimals to cut). */
export const whole = (v: unknown): string => (finite(v) ? String(v) : DASH);
