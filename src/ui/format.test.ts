import { describe, expect, it } from 'vitest';
import { DASH, fixed, percent, seconds, whole } from './format';

describe('pane number formatting', () => {
  it('prints finite numbers and a dash for everything else, never throwing', () => {
    expect(fixed(0.12345, 3)).toBe('0.123');
    expect(percent(0.8125)).toBe('81.3%');
    expect(seconds(1530)).toBe('1.5 s');
    expect(whole(100)).toBe('100');
    for (const v of [undefined, null, NaN, Infinity, '0.5', {}, [1]]) {
      expect([fixed(v, 3), percent(v), seconds(v), whole(v)]).toEqual([DASH, DASH, DASH, DASH]);
    }
  });
});
