/**
 * Text in every face and with every symbol the views use, laid out once
 * while the page loads and never seen (aria-hidden, off screen, invisible).
 *
 * Why: the first layout of a glyph missing from the UI font runs the
 * system's font fallback, and the first bold, italic or serif text loads its
 * face from disk. Left to the first tab switch while training, that took
 * most of a 50 ms long-task budget in one layout on the About view (Chrome
 * trace on the 2-core test machine, docs/BENCHMARKS.md §M12). Here it happens before the
 * worker trains, and the font caches keep the result.
 */
const SYMBOLS = '×–…—→’·−”“λ§≤∈‖τⱼ✗✓⚠◆≡′ᵢμΣ²±≥∞√∑∂εσ°';
const TEXT = `Aa Zz 0123456789 ${SYMBOLS}`;

export function FontWarmup() {
  return (
    <div className="font-warmup" aria-hidden="true">
      <span>{TEXT}</span> <strong>{TEXT}</strong> <b>{TEXT}</b> <em>{TEXT}</em>{' '}
      <small>
        {TEXT} <strong>{TEXT}</strong>
      </small>{' '}
      <sub>{TEXT}</sub>
      <span className="formula">
        {TEXT} <sub>{TEXT}</sub>
      </span>
      <code>{TEXT}</code>
    </div>
  );
}
