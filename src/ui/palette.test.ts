import { describe, expect, it } from 'vitest';
import { HEAT_RGB, heatCell } from './palette';

/**
 * The palette's contrast (issue 19), computed here from the colour values
 * with WCAG 2.x's own formulas (relative luminance, (L1 + 0.05) / (L2 + 0.05)),
 * independently of axe-core (e2e/a11y.spec.ts): every --text-* colour in
 * app.css's :root on every --surface-* at least 4.5:1 (AA, normal text),
 * every --mark-* (graphics beside a text reason) at least 3:1, and every
 * confusion-matrix cell's number on its blended blue at least 4.5:1.
 */

type Rgb = [number, number, number];

function parseColour(c: string): Rgb {
  const hex = c.trim().toLowerCase();
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/.exec(hex);
  if (!m) throw new Error(`not a #rgb / #rrggbb colour: ${c}`);
  const h = m[1].length === 3 ? [...m[1]].map((x) => x + x).join('') : m[1];
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as Rgb;
}

function luminance([r, g, b]: Rgb): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// Node's fs by hand (as in src/io/zip.test.ts): src/ui is also compiled under tsconfig.app.json, which has no Node types.
const fs = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(
  'node:fs',
) as { readFileSync(path: URL, encoding: 'utf8'): string };
const css = fs.readFileSync(new URL('./app.css', import.meta.url), 'utf8');
const root = /:root\s*\{([^}]*)\}/.exec(css)?.[1] ?? '';
const palette = new Map([...root.matchAll(/(--[\w-]+):\s*([^;]+);/g)].map((m) => [m[1], m[2].trim()]));
const named = (prefix: string) => [...palette].filter(([k]) => k.startsWith(prefix));

describe('palette contrast (WCAG 2.x)', () => {
  it('computes the reference ratios', () => {
    expect(contrast(parseColour('#000'), parseColour('#fff'))).toBeCloseTo(21, 5);
    // The status-bar labels axe flagged before the fix.
    expect(contrast(parseColour('#6b7280'), parseColour('#f3f4f6'))).toBeCloseTo(4.39, 2);
  });

  it('has text, surface and mark colours', () => {
    expect(named('--text').length).toBeGreaterThanOrEqual(5);
    expect(named('--surface').length).toBeGreaterThanOrEqual(3);
    expect(named('--mark').length).toBe(2);
  });

  const surfaces = named('--surface');
  for (const [text, fg] of named('--text')) {
    it(`${text} (${fg}) has ≥ 4.5:1 on every surface`, () => {
      for (const [surface, bg] of surfaces) {
        const r = contrast(parseColour(fg), parseColour(bg));
        expect(r, `${text} ${fg} on ${surface} ${bg}: ${r.toFixed(2)}:1`).toBeGreaterThanOrEqual(4.5);
      }
    });
  }
  for (const [mark, fg] of named('--mark')) {
    it(`${mark} (${fg}) has ≥ 3:1 on every surface (non-text)`, () => {
      for (const [surface, bg] of surfaces) {
        const r = contrast(parseColour(fg), parseColour(bg));
        expect(r, `${mark} ${fg} on ${surface} ${bg}: ${r.toFixed(2)}:1`).toBeGreaterThanOrEqual(3);
      }
    });
  }

  it('app.css takes every text colour and text background from the palette', () => {
    const body = css.replace(/:root\s*\{[^}]*\}/, '');
    // Literal colours are left only for borders, strokes and fills with no text on them.
    const literal = [...body.matchAll(/^\s*(color|background(?:-color)?):\s*(#[0-9a-f]+|rgba?\([^)]*\))/gim)].map((m) =>
      m[0].trim(),
    );
    expect(literal.filter((d) => !/^background: #(e5e7eb|0072b2)$/i.test(d))).toEqual([]);
  });

  it('every confusion-matrix cell has ≥ 4.5:1 between its number and its blue', () => {
    for (let i = 0; i <= 1000; i++) {
      const share = i / 1000;
      const { background, color } = heatCell(share);
      const alpha = Number(/,\s*([\d.]+)\)$/.exec(background)?.[1]);
      expect(alpha).toBeCloseTo(share, 3);
      // Over the card's white surface.
      const bg = HEAT_RGB.map((c) => Math.round(255 * (1 - alpha) + c * alpha)) as Rgb;
      const r = contrast(parseColour(color), bg);
      expect(r, `share ${share}: ${color} on rgb(${bg.join(', ')}): ${r.toFixed(2)}:1`).toBeGreaterThanOrEqual(4.5);
    }
  });
});
