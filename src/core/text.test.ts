import { describe, expect, it } from 'vitest';
import { csvCell, escapeControl, escapeJsonControl } from './text';

describe('escapeControl', () => {
  it('writes tab, newline and CR as \\t, \\n, \\r, so a name stays on one line and in one cell', () => {
    const s = escapeControl('a\tb\nc\rd.png');
    expect(s).toBe('a\\tb\\nc\\rd.png');
    expect(s).not.toMatch(/[\t\n\r]/);
  });

  it('writes the other C0 controls, DEL and C1 as \\uXXXX', () => {
    expect(escapeControl('\u0000\u0001\u001b[31m\u001f')).toBe('\\u0000\\u0001\\u001b[31m\\u001f');
    expect(escapeControl('x\u007fy\u0080z\u0085\u009f')).toBe('x\\u007fy\\u0080z\\u0085\\u009f');
  });

  it('writes the Unicode line and paragraph separators as \\u2028 and \\u2029', () => {
    expect(escapeControl('a\u2028b\u2029c')).toBe('a\\u2028b\\u2029c');
  });

  it('writes every bidi embedding, override and isolate, so "gnp.exe" behind U+202E cannot pose as "exe.png"', () => {
    expect(escapeControl('photo\u202Egnp.exe')).toBe('photo\\u202egnp.exe');
    const bidi = [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]
      .map((c) => String.fromCharCode(c))
      .join('');
    expect(escapeControl(bidi)).toBe('\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069');
  });

  it('keeps printable text as it is: spaces, backslashes, accents, right-to-left letters and marks, emoji', () => {
    for (const s of [
      '',
      'plain name.png',
      'C:\\pics\\a.png',
      'café/ñandú',
      'שלום\u200F.png',
      'كلب.jpg',
      '🐱 cat.png',
      '\u00a0nbsp',
      'a\\tb',
    ]) {
      expect(escapeControl(s)).toBe(s);
    }
  });

  it('leaves nothing in the escaped set: every code unit from U+0000 to U+FFFF', () => {
    let all = '';
    for (let c = 0; c < 0x10000; c++) if (c < 0xd800 || c > 0xdfff) all += String.fromCharCode(c);
    const out = escapeControl(all);
    expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/); // eslint-disable-line no-control-regex
    // 32 C0 + DEL + 32 C1 + 2 separators + 9 bidi controls escaped; 3 of them as two characters, the rest as six.
    expect(out.length - all.length).toBe(3 * 1 + (76 - 3) * 5);
  });
});

describe('escapeJsonControl', () => {
  it('escapes what JSON.stringify leaves raw, and JSON.parse gives the same strings back', () => {
    const value = { path: 'a\tb\u2028c\u202Ed\u0085e\u007f', list: ['\u2066x\u2069'] };
    const text = escapeJsonControl(JSON.stringify(value, null, 1));
    expect(text).not.toMatch(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(text).toContain('"a\\tb\\u2028c\\u202ed\\u0085e\\u007f"');
    expect(JSON.parse(text)).toEqual(value);
    // Indentation newlines are JSON's structure and stay.
    expect(text.split('\n').length).toBeGreaterThan(1);
  });
});

describe('csvCell', () => {
  it('escapes tab, newline, CR, U+2028 and U+202E, so a cell never spans two lines', () => {
    expect(['a\tb', 'a\nb', 'a\rb', 'a\u2028b', 'a\u202eb'].map(csvCell)).toEqual([
      'a\\tb',
      'a\\nb',
      'a\\rb',
      'a\\u2028b',
      'a\\u202eb',
    ]);
  });

  it('keeps RFC 4180 quoting for commas and double quotes, after escaping', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('x,\n"y"')).toBe('"x,\\n""y"""');
    expect(csvCell('')).toBe('');
  });
});
