/**
 * Colours the UI sets from script rather than from app.css (whose :root
 * holds the rest of the palette). src/ui/palette.test.ts checks their
 * contrast from these values.
 */

/** The confusion matrix's heat colour, Okabe-Ito blue (#0072b2), as RGB: a cell is this at alpha = its share, over white. */
export const HEAT_RGB = [0, 114, 178] as const;

/**
 * From this share up a cell's number is white, below it black: the
 * crossing point where both have the same contrast on the blended blue, so
 * every cell has at least 4.5:1 (WCAG AA). The old rule (white above 0.5,
 * #111 below) put white on light blue: 2.2:1 at a share of 0.51.
 */
export const HEAT_WHITE_TEXT_FROM = 0.93;

/** Background and text colour of a confusion-matrix cell showing `share` (0..1) of its row. */
export function heatCell(share: number): { background: string; color: string } {
  return {
    background: `rgba(${HEAT_RGB.join(', ')}, ${share.toFixed(3)})`,
    color: share >= HEAT_WHITE_TEXT_FROM ? '#fff' : '#000',
  };
}
