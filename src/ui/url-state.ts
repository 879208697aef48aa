/**
 * The run's settings in the URL hash, so a link reproduces a run: the preset,
 * the data set, an optional backend and only the fields that differ from the
 * preset (plus the seed, so a shared link always names it). The hash rather
 * than `?query` because changing it neither reloads the page nor reaches the
 * server. Field keys and types come from CONFIG_FIELDS, so a new config field
 * gets its URL form with its table row.
 *
 * Pure string in, string out: the caller reads and writes location.hash,
 * which keeps this testable without a DOM.
 */
import { DEFAULT_CONFIG, defaultConfig, truncateText, validateConfig, type ClimConfig } from '../core/config';
import { escapeControl } from '../core/text';
import { CONFIG_FIELDS, type ConfigField } from '../core/config-fields';
import { PRESETS, presetConfig } from '../core/presets';
import {
  BACKEND_NAMES,
  DATASETS,
  isBackendName,
  isDatasetName,
  type BackendName,
  type DatasetName,
} from '../worker/protocol';

/** Hash keys that are not config fields; no CONFIG_FIELDS hash may equal one. */
export const RESERVED_HASH_KEYS = { preset: 'preset', dataset: 'ds', backend: 'be' } as const;

export interface HashState {
  config: ClimConfig;
  /** A preset id; an unknown id is left out and the config diffed against the defaults. */
  preset: string | null;
  dataset: string;
  /** Written only when set: an auto-picked backend should stay auto on another machine. */
  backend?: string | null;
}

export interface DecodedHash {
  config: ClimConfig;
  preset: string | null;
  dataset: DatasetName | null;
  backend: BackendName | null;
  /** One sentence per ignored or rejected entry, naming the key and value. */
  problems: string[];
}

const FIELD_BY_HASH = new Map<string, ConfigField>(CONFIG_FIELDS.map((f) => [f.hash, f]));
const FIELD_BY_KEY = new Map<keyof ClimConfig, ConfigField>(CONFIG_FIELDS.map((f) => [f.key, f]));
/** Plain decimal or exponent notation only: Number() would also take '', ' ', '0x10' and 'Infinity'. */
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Longest key or value a notice repeats: a link can carry 100,000 characters
 * in one value, and the notice only has to say which entry it means.
 */
const NOTICE_VALUE_MAX = 60;
/** User text as a notice repeats it: control and bidi characters made visible (a link can hold them), then cut. */
const shown = (s: string): string => truncateText(escapeControl(s), NOTICE_VALUE_MAX);

function isPresetId(id: string): boolean {
  return PRESETS.some((p) => p.id === id);
}

/** The URL form of a field value; String(n) round-trips every finite double exactly. */
function formatValue(f: ConfigField, v: unknown): string {
  switch (f.kind) {
    case 'intList':
      return (v as number[]).join('.');
    case 'bool':
      return v ? '1' : '0';
    default:
      return String(v);
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** The parsed value, or the reason it is not one (completed to a sentence by the caller). */
function parseValue(f: ConfigField, raw: string): { value: unknown } | { reason: string } {
  switch (f.kind) {
    case 'int':
    case 'float': {
      if (!NUMBER_RE.test(raw)) return { reason: 'is not a number' };
      const n = Number(raw);
      if (f.kind === 'int' && !Number.isInteger(n)) return { reason: 'is not a whole number' };
      // −0 ('-0', '-1e-400') would be written back as '0': read it as 0 so a link round-trips exactly.
      return { value: n === 0 ? 0 : n };
    }
    case 'intList': {
      const parts = raw.split('.');
      if (!parts.every((p) => /^\d+$/.test(p)))
        return { reason: "is not a list of whole numbers joined by '.' (like 32.24)" };
      return { value: parts.map(Number) };
    }
    case 'bool':
      if (raw === '1' || raw === 'true') return { value: true };
      if (raw === '0' || raw === 'false') return { value: false };
      return { reason: 'is not 1 or 0' };
    case 'enum':
      if ((f.options as readonly string[]).includes(raw)) return { value: raw };
      return { reason: `is not one of ${f.options.join(', ')}` };
  }
}

export function encodeHash(state: HashState): string {
  const q = new URLSearchParams();
  const preset = state.preset !== null && isPresetId(state.preset) ? state.preset : null;
  if (preset !== null) q.set(RESERVED_HASH_KEYS.preset, preset);
  q.set(RESERVED_HASH_KEYS.dataset, state.dataset);
  if (state.backend) q.set(RESERVED_HASH_KEYS.backend, state.backend);
  const base: Readonly<ClimConfig> = preset !== null ? presetConfig(preset) : DEFAULT_CONFIG;
  const seed = FIELD_BY_KEY.get('seed')!;
  q.set(seed.hash, formatValue(seed, state.config.seed));
  for (const f of CONFIG_FIELDS) {
    if (f.key === 'seed' || sameValue(state.config[f.key], base[f.key])) continue;
    q.set(f.hash, formatValue(f, state.config[f.key]));
  }
  return `#${q.toString()}`;
}

/** Never throws: whatever a hand-edited link holds, the result is a valid config. */
export function decodeHash(hash: string): DecodedHash {
  const q = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const problems: string[] = [];

  let preset: string | null = null;
  const p = q.get(RESERVED_HASH_KEYS.preset);
  if (p !== null) {
    if (isPresetId(p)) preset = p;
    else
      problems.push(
        `preset=${shown(p)} is not a known preset (${PRESETS.map((x) => x.id).join(', ')}); started from the defaults.`,
      );
  }
  const base = preset !== null ? presetConfig(preset) : defaultConfig();

  let dataset: DatasetName | null = null;
  const d = q.get(RESERVED_HASH_KEYS.dataset);
  if (d !== null) {
    if (isDatasetName(d)) dataset = d;
    else if (d === 'upload')
      problems.push('ds=upload names an uploaded image set, which a link cannot carry; using the default data set.');
    else problems.push(`ds=${shown(d)} is not a known data set (${DATASETS.join(', ')}); using the default data set.`);
  }

  let backend: BackendName | null = null;
  const b = q.get(RESERVED_HASH_KEYS.backend);
  if (b !== null) {
    if (isBackendName(b)) backend = b;
    else
      problems.push(`be=${shown(b)} is not a known backend (${BACKEND_NAMES.join(', ')}); picking one automatically.`);
  }

  const kept = (f: ConfigField) => `kept ${formatValue(f, base[f.key])}`;
  const config: ClimConfig = { ...base, resolutions: [...base.resolutions] };
  /** Fields the hash set, with the text that set them, for blame when validation fails. */
  const fromHash = new Map<keyof ClimConfig, { f: ConfigField; raw: string }>();
  const seen = new Set<string>();
  const reserved = new Set<string>(Object.values(RESERVED_HASH_KEYS));
  for (const [key, raw] of q) {
    if (seen.has(key)) {
      problems.push(`${shown(key)} appears more than once; used the first (${shown(q.get(key) ?? '')}).`);
      continue;
    }
    seen.add(key);
    if (reserved.has(key)) continue;
    const f = FIELD_BY_HASH.get(key);
    if (!f) {
      problems.push(`${shown(key)}=${shown(raw)} is not a known setting; ignored.`);
      continue;
    }
    const parsed = parseValue(f, raw);
    if ('reason' in parsed) {
      problems.push(`${key}=${shown(raw)} ${parsed.reason}; ${kept(f)}.`);
      continue;
    }
    (config as unknown as Record<string, unknown>)[f.key] = parsed.value;
    fromHash.set(f.key, { f, raw });
  }

  const revert = (key: keyof ClimConfig, why: string[]) => {
    const { f, raw } = fromHash.get(key)!;
    fromHash.delete(key);
    (config as unknown as Record<string, unknown>)[key] = key === 'resolutions' ? [...base.resolutions] : base[key];
    const reasons = why.map((m) => m.replace(/\.$/, '')).join('; ');
    problems.push(`${f.hash}=${shown(raw)} was rejected: ${reasons}; ${kept(f)}.`);
  };

  // Each round reverts at least one hash field to the preset's (valid) value,
  // so this ends within one round per field.
  while (fromHash.size > 0) {
    const issues = validateConfig(config);
    if (issues.length === 0) break;
    const blamed = issues.filter((i) => fromHash.has(i.field));
    if (blamed.length > 0) {
      const byField = new Map<keyof ClimConfig, string[]>();
      for (const i of blamed) byField.set(i.field, [...(byField.get(i.field) ?? []), i.message]);
      for (const [key, why] of byField) revert(key, why);
      continue;
    }
    // A cross-field rule reported on a field the hash did not set (stages=5
    // makes the preset's resolutions indivisible): blame the hash field whose
    // removal clears it, latest first; failing that, the latest one.
    const target = issues[0];
    const keys = [...fromHash.keys()].reverse();
    const culprit =
      keys.find((k) => {
        const trial = { ...config, [k]: base[k] } as ClimConfig;
        return !validateConfig(trial).some((i) => i.field === target.field && i.message === target.message);
      }) ?? keys[0];
    revert(culprit, [target.message]);
  }

  return { config, preset, dataset, backend, problems };
}
