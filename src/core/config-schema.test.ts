import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, type SchemaField, type SchemaRule } from './config-schema';
import { defaultConfig, describeValue, validateConfig, type ClimConfig } from './config';

const COMMITTED = join(__dirname, '..', '..', 'python', 'clim_torch', 'config_schema.json');

/** A template with its {placeholders} filled. */
const fill = (t: string, v: Record<string, string | number>) => t.replace(/\{(\w+)\}/g, (_, k: string) => String(v[k]));

function messagesFor(patch: Partial<Record<keyof ClimConfig, unknown>>): string[] {
  return validateConfig({ ...defaultConfig(), ...patch } as ClimConfig).map((i) => i.message);
}

describe('config schema (python/clim_torch/config_schema.json)', () => {
  it('the committed file is what scripts/gen-config-schema.ts generates now', () => {
    const committed = JSON.parse(readFileSync(COMMITTED, 'utf8')) as unknown;
    // JSON round trip: the committed file can only hold what JSON.stringify keeps.
    expect(committed).toEqual(JSON.parse(JSON.stringify(configSchema())));
  });

  it('has every field with its default, and the defaults validate', () => {
    const s = configSchema();
    const d = defaultConfig();
    expect(Object.keys(s.fields)).toEqual(Object.keys(d));
    for (const [k, f] of Object.entries(s.fields)) expect(f.default).toEqual(d[k as keyof ClimConfig]);
    expect(validateConfig(d)).toEqual([]);
  });

  it("words each field's bad values exactly as validateConfig does", () => {
    const s = configSchema();
    for (const [key, f] of Object.entries(s.fields) as [keyof ClimConfig, SchemaField][]) {
      const bad: unknown[] = [];
      if (f.type === 'int' || f.type === 'number') bad.push(f.max! + 1, 'x', f.minExclusive ? f.min : f.min! - 1);
      if (f.type === 'int') bad.push(f.min! + 0.5);
      if (f.type === 'enum' || f.type === 'bool') bad.push('nope', 3);
      for (const v of bad) {
        const template =
          f.type === 'number' && f.minExclusive ? s.messages.numberMinExclusive : s.messages[f.type as string];
        const want = fill(template, {
          field: key,
          min: f.min ?? '',
          max: f.max ?? '',
          options: (f.options ?? []).join(', '),
          value: describeValue(v),
        });
        expect(messagesFor({ [key]: v })).toContain(want);
      }
    }
    const res = s.fields.resolutions;
    expect(messagesFor({ resolutions: [] })).toEqual([
      fill(s.messages.intListLength, { field: 'resolutions', minLength: res.minLength!, maxLength: res.maxLength! }),
    ]);
    expect(messagesFor({ resolutions: [32, 200] })).toEqual([
      fill(s.messages.intListEntry, { min: res.min!, max: res.max!, value: 200 }),
    ]);
  });

  it('every data rule and manual rule is one validateConfig enforces, with its message', () => {
    const s = configSchema();
    const crop = s.rules.find((r) => r.kind === 'lessOrEqual') as Extract<SchemaRule, { other: unknown }>;
    expect(messagesFor({ cropScaleMin: 0.9, cropScaleMax: 0.5 })).toEqual([
      fill(crop.message, { field: crop.field, other: crop.other, value: 0.9, otherValue: 0.5 }),
    ]);
    const seg = s.rules.find((r) => r.kind === 'less') as Extract<SchemaRule, { other: unknown }>;
    expect(messagesFor({ scheduleStart: 40, totalSteps: 40 })).toEqual([
      fill(seg.message, { field: seg.field, other: seg.other, value: 40, otherValue: 40 }),
    ]);
    const unique = s.rules.find((r) => r.kind === 'unique')!;
    expect(messagesFor({ resolutions: [16, 16] })).toEqual([fill(unique.message, { field: unique.field })]);
    const div = s.manualRules.find((r) => r.id === 'resolution-divisible-by-stride')!;
    expect(messagesFor({ resolutions: [36], stemStride: 2, stages: 3 })).toEqual([
      fill(div.message, { step: 8, value: 36 }),
    ]);
  });
});
