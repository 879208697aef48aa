/**
 * Text that came from outside (file and folder names, class names, paths)
 * made safe to print or write into line- and tab-structured output. A tab
 * or newline in a file name would split a log line, a CSV row or a TSV cell
 * and could fake a line of its own; a bidi override (U+202E) makes
 * `gnp.exe` display as `exe.png`. Escaping them into visible text keeps
 * every name on its own line, in its own cell, in the order it was written.
 */

/**
 * C0 controls and DEL, C1 controls, the Unicode line and paragraph
 * separators (JavaScript and many editors break lines on them) and the bidi
 * embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069, the
 * "Trojan Source" set). The bidi marks (U+200E, U+200F) are left alone:
 * they only nudge neighbouring characters and occur in real right-to-left names.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

const hex4 = (c: string): string => c.charCodeAt(0).toString(16).padStart(4, '0');

/**
 * `s` with every control, separator and bidi control character written as a
 * visible escape: `\t`, `\n`, `\r`, else `\uXXXX` (lower-case hex, as
 * JavaScript writes it). Backslashes are kept as they are, so Windows paths
 * stay readable; the result is for display and never parsed back.
 */
export function escapeControl(s: string): string {
  return s.replace(CONTROL_RE, (c) => SHORT[c] ?? `\\u${hex4(c)}`);
}

/**
 * CONTROL_RE less C0: `JSON.stringify` escapes C0 inside strings itself, and
 * indented JSON has real newlines between values, which must stay.
 */
const JSON_RAW_RE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON text (from `JSON.stringify`) with the characters `escapeControl`
 * targets that JSON leaves raw (DEL, C1, U+2028/2029, bidi controls) written
 * as `\uXXXX` escapes. Unlike `escapeControl` this loses nothing: the
 * escapes are JSON's own, so `JSON.parse` gives the same strings back. Those
 * characters can occur only inside JSON strings, where the escape is valid.
 */
export function escapeJsonControl(json: string): string {
  return json.replace(JSON_RAW_RE, (c) => `\\u${hex4(c)}`);
}

/**
 * One CSV cell of text: control characters escaped first (a quoted line
 * break is valid RFC 4180 but splits the row for line-based tools such as
 * grep, wc -l and many spreadsheet importers), then RFC 4180 quoting when a
 * comma or a double quote remains.
 */
export function csvCell(s: string): string {
  const e = escapeControl(s);
  return /[",]/.test(e) ? `"${e.replace(/"/g, '""')}"` : e;
}
