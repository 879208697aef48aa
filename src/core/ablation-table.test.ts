import { describe, expect, it } from 'vitest';
import { ABLATION_CSV_HEADER, ablationCsv, ablationMarkdown, type AblationRow } from './ablation-table';

/** A row whose id and label carry the given text (arm ids are fixed today; rows also arrive from the worker as data). */
function row(text: string): AblationRow {
  return {
    id: `id ${text}`,
    label: `label ${text}`,
    knnTop1: 0.5,
    linearTop1: null,
    precision: null,
    coverage: null,
    finalLoss: null,
    alignment: null,
    uniformity: null,
    clusterNmi: null,
    knnRulePrecision: null,
    centerWiseRulePrecision: null,
    seconds: 1,
    steps: 2,
  };
}

const HOSTILE = ['a\tb', 'a\nb', 'a\rb', 'a\u2028b', 'a\u202egnp.exe'];

describe('ablation table with control characters in names', () => {
  it('CSV: one line per row, the names escaped, the columns intact', () => {
    const lines = ablationCsv(HOSTILE.map(row)).split('\n');
    expect(lines).toHaveLength(HOSTILE.length + 2);
    expect(lines[0]).toBe(ABLATION_CSV_HEADER);
    expect(lines.slice(1, -1).map((l) => l.split(',').slice(0, 3))).toEqual([
      ['id a\\tb', 'label a\\tb', '2'],
      ['id a\\nb', 'label a\\nb', '2'],
      ['id a\\rb', 'label a\\rb', '2'],
      ['id a\\u2028b', 'label a\\u2028b', '2'],
      ['id a\\u202egnp.exe', 'label a\\u202egnp.exe', '2'],
    ]);
    expect(lines.every((l) => l.split(',').length === ABLATION_CSV_HEADER.split(',').length || l === '')).toBe(true);
  });

  it('Markdown: one table row per arm, the names escaped', () => {
    const md = ablationMarkdown(HOSTILE.map(row), null).trimEnd().split('\n');
    expect(md).toHaveLength(2 + HOSTILE.length);
    expect(md[2]).toMatch(/^\| label a\\tb \(`id a\\tb`\) \| 50\.0% \|/);
    expect(md[6]).toMatch(/^\| label a\\u202egnp\.exe \(`id a\\u202egnp\.exe`\) \|/);
    expect(md.join('\n')).not.toMatch(/[\t\r\u2028\u202e]/);
  });
});
