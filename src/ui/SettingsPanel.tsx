import { useState, type ReactNode } from 'react';
import type { ClimConfig } from '../core/config';
import { CONFIG_FIELDS, CONFIG_GROUPS, configField, splitChanges, type ConfigField } from '../core/config-fields';
import { PRESETS, presetConfig } from '../core/presets';
import { downloadText } from './export';
import { isFreshRun, pendingRestart, pytorchConfigJson, settingsLocked } from './settings-store';
import { useClim } from './store';

// One formatter for the page: toLocaleString with options builds a new one per call, dozens of times each time the form
// re-renders (docs/BENCHMARKS.md §M12).
const NUMBER_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });
const fmtNumber = (n: number) => NUMBER_FORMAT.format(n);

/** The valid range as the form shows it next to the input; null where the options are the range. */
function rangeText(f: ConfigField): string | null {
  switch (f.kind) {
    case 'int':
    case 'float':
      return f.minExclusive
        ? `above ${fmtNumber(f.min)}, at most ${fmtNumber(f.max)}`
        : `${fmtNumber(f.min)}–${fmtNumber(f.max)}`;
    case 'intList':
      return `${f.minLength}–${f.maxLength} sizes, each ${f.min}–${f.max}`;
    default:
      return null;
  }
}

/** validateConfig prints an emptied number input as NaN. */
const readable = (message: string) => message.replace('(got NaN)', '(got no number)');

const numberText = (v: number) => (Number.isNaN(v) ? '' : String(v));
const listText = (v: number[]) => v.map(numberText).join(', ');

interface InputProps {
  id: string;
  disabled: boolean;
  invalid: boolean;
  describedBy: string;
  testId: string;
}

/**
 * A number input that keeps what the user typed ("0.", "") while the store
 * holds the parsed number, and shows the store's value again when something
 * else changes it (a preset, a pasted link, Discard).
 */
function NumberInput({
  f,
  value,
  onValue,
  ...p
}: InputProps & { f: Extract<ConfigField, { kind: 'int' | 'float' }>; value: number; onValue: (v: number) => void }) {
  const [text, setText] = useState(() => numberText(value));
  const [shown, setShown] = useState(value);
  if (!Object.is(shown, value)) {
    setShown(value);
    setText(numberText(value));
  }
  return (
    <input
      id={p.id}
      type="number"
      inputMode={f.kind === 'int' ? 'numeric' : 'decimal'}
      min={f.minExclusive ? undefined : f.min}
      max={f.max}
      step={f.step}
      value={text}
      disabled={p.disabled}
      aria-invalid={p.invalid || undefined}
      aria-describedby={p.describedBy}
      data-testid={p.testId}
      onChange={(e) => {
        const t = e.target.value;
        const v = t.trim() === '' ? Number.NaN : Number(t);
        setText(t);
        setShown(v);
        onValue(v);
      }}
    />
  );
}

function ListInput({ value, onValue, ...p }: InputProps & { value: number[]; onValue: (v: number[]) => void }) {
  const [text, setText] = useState(() => listText(value));
  const [shown, setShown] = useState(() => listText(value));
  if (shown !== listText(value)) {
    setShown(listText(value));
    setText(listText(value));
  }
  return (
    <input
      id={p.id}
      type="text"
      inputMode="numeric"
      value={text}
      disabled={p.disabled}
      aria-invalid={p.invalid || undefined}
      aria-describedby={p.describedBy}
      data-testid={p.testId}
      onChange={(e) => {
        const t = e.target.value;
        const v = t
          .split(/[\s,;]+/)
          .filter(Boolean)
          .map(Number);
        setText(t);
        setShown(listText(v));
        onValue(v);
      }}
    />
  );
}

function FieldRow({ f, pending, locked }: { f: ConfigField; pending: boolean; locked: boolean }) {
  const value = useClim((s) => s.draft[f.key]);
  // Runs for every field on every store update (progress events included): skip the work when the draft is valid.
  const issues = useClim((s) =>
    s.draftIssues.length === 0
      ? ''
      : s.draftIssues
          .filter((i) => i.field === f.key)
          .map((i) => readable(i.message))
          .join(' '),
  );
  const editDraft = useClim((s) => s.editDraft);
  const id = `cfg-${f.key}`;
  const describedBy = issues ? `${id}-help ${id}-issue` : `${id}-help`;
  const p: InputProps = { id, disabled: locked, invalid: issues !== '', describedBy, testId: `field-${f.key}` };
  const edit = (v: unknown) => editDraft({ [f.key]: v } as Partial<ClimConfig>);

  let control: ReactNode;
  switch (f.kind) {
    case 'int':
    case 'float':
      control = <NumberInput {...p} f={f} value={value as number} onValue={edit} />;
      break;
    case 'intList':
      control = <ListInput {...p} value={value as number[]} onValue={edit} />;
      break;
    case 'enum':
      control = (
        <select
          id={id}
          value={value as string}
          disabled={locked}
          aria-describedby={describedBy}
          data-testid={p.testId}
          onChange={(e) => edit(e.target.value)}
        >
          {f.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      );
      break;
    case 'bool':
      control = (
        <input
          id={id}
          type="checkbox"
          checked={value as boolean}
          disabled={locked}
          aria-describedby={describedBy}
          data-testid={p.testId}
          onChange={(e) => edit(e.target.checked)}
        />
      );
      break;
  }
  const range = rangeText(f);
  return (
    <div className={issues ? 'setting invalid' : 'setting'}>
      <div className="setting-line">
        <label htmlFor={id}>{f.label}</label>
        {control}
      </div>
      <p id={`${id}-help`} className="setting-help">
        {range && <span className="setting-range">{range}. </span>}
        {f.help}
        {f.liveSafe && (
          <span className="setting-tag" title="Can change while a run is paused, without restarting it">
            {' '}
            live
          </span>
        )}
        {pending && <span className="setting-tag pending"> applies to a new run</span>}
      </p>
      {issues && (
        <p id={`${id}-issue`} className="setting-issue" data-testid={`issue-${f.key}`}>
          {issues}
        </p>
      )}
    </div>
  );
}

function PresetPicker({ locked }: { locked: boolean }) {
  const preset = useClim((s) => s.preset);
  const config = useClim((s) => s.config);
  const choosePreset = useClim((s) => s.choosePreset);
  const presetNote = useClim((s) => s.presetNote);
  const chosen = PRESETS.find((p) => p.id === preset) ?? null;
  // The seed is the run's own, kept across presets, so it does not count as a change.
  const changed = chosen ? splitChanges({ ...presetConfig(chosen.id), seed: config.seed }, config) : null;
  const nChanged = changed ? changed.restart.length + Object.keys(changed.live).length : 0;
  return (
    <div className="setting">
      <div className="setting-line">
        <label htmlFor="cfg-preset">Preset</label>
        <select
          id="cfg-preset"
          value={preset ?? ''}
          disabled={locked}
          aria-describedby="cfg-preset-help"
          title="Choosing a preset starts a new run (the seed is kept)"
          data-testid="preset-select"
          onChange={(e) => e.target.value && choosePreset(e.target.value)}
        >
          {!chosen && (
            <option value="" disabled>
              Custom
            </option>
          )}
          {PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
        </select>
      </div>
      <p id="cfg-preset-help" className="setting-help" data-testid="preset-description">
        {chosen ? chosen.description : 'Settings of no preset (the page options chose them).'}
        {nChanged > 0 && ` ${nChanged} setting${nChanged === 1 ? '' : 's'} changed from the preset.`}
      </p>
      {presetNote && (
        <p className="setting-help" data-testid="auto-preset-note">
          {presetNote}
        </p>
      )}
    </div>
  );
}

function LinkNotices() {
  const notices = useClim((s) => s.notices);
  const dismiss = useClim((s) => s.dismissNotices);
  if (!notices.length) return null;
  return (
    <div className="notice" role="status" data-testid="url-notice">
      <p>Parts of this page's link could not be used:</p>
      <ul>
        {notices.map((n, i) => (
          <li key={i}>{n}</li>
        ))}
      </ul>
      <button type="button" onClick={dismiss}>
        Dismiss
      </button>
    </div>
  );
}

function PendingChanges({ keys }: { keys: (keyof ClimConfig)[] }) {
  const invalid = useClim((s) => s.draftIssues.length > 0);
  const apply = useClim((s) => s.applyDraft);
  const discard = useClim((s) => s.discardDraft);
  return (
    <div className="pending-settings" role="status" data-testid="pending-settings">
      <p>
        {keys.map((k) => configField(k).label).join(', ')}: {keys.length === 1 ? 'applies' : 'apply'} to a new run.
      </p>
      <button
        type="button"
        onClick={apply}
        disabled={invalid}
        title={invalid ? 'Fix the invalid settings first' : 'Discard the model and start a new run with these settings'}
        data-testid="apply-restart"
      >
        Apply and restart
      </button>{' '}
      <button type="button" onClick={discard}>
        Discard changes
      </button>
    </div>
  );
}

/**
 * The settings as the PyTorch trainer's `config.json` (the export zip's file):
 * a run that outgrows the browser continues on a GPU with exactly these.
 */
function ExportConfig() {
  const draft = useClim((s) => s.draft);
  const draftIssues = useClim((s) => s.draftIssues);
  // Serialised on click, not per store update (progress arrives many times a second).
  const invalid = draftIssues.length > 0;
  return (
    <div className="setting export-config">
      <button
        type="button"
        disabled={invalid}
        title={invalid ? 'Fix the invalid settings first' : 'Download these settings as config.json'}
        aria-describedby="export-config-help"
        onClick={() => {
          const json = pytorchConfigJson({ draft, draftIssues });
          if (json !== null) downloadText('config.json', json, 'application/json');
        }}
        data-testid="export-config"
      >
        Export config for PyTorch
      </button>
      <p id="export-config-help" className="setting-help">
        For <code>python -m clim_torch.train --config config.json</code> (README: When you outgrow the browser)
      </p>
    </div>
  );
}

/** Every config field from CONFIG_FIELDS, grouped, editing the store's draft. */
export function SettingsPanel() {
  const locked = useClim(settingsLocked);
  const fresh = useClim(isFreshRun);
  const pendingKeys = useClim((s) => pendingRestart(s).join(','));
  const issueFields = useClim((s) => s.draftIssues.map((i) => i.field).join(','));
  const pending = pendingKeys ? (pendingKeys.split(',') as (keyof ClimConfig)[]) : [];
  const showPending = !fresh && pending.length > 0;
  const withIssues = new Set(issueFields.split(','));
  // Set by "Train N more steps" (FinishedCard), not chosen up front: shown only once it matters (or is wrong).
  const segmentMoved = useClim((s) => s.draft.scheduleStart !== 0);
  const shownField = (k: keyof ClimConfig) =>
    k !== 'seed' && (k !== 'scheduleStart' || segmentMoved || withIssues.has(k));
  return (
    <section className="settings" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <LinkNotices />
      <PresetPicker locked={locked} />
      <FieldRow f={configField('seed')} pending={showPending && pending.includes('seed')} locked={locked} />
      {locked && (
        <p className="setting-help">
          Pause to change settings: the ones marked “live” then apply without losing the run.
        </p>
      )}
      {showPending && <PendingChanges keys={pending} />}
      {CONFIG_GROUPS.map((g) => {
        const fields = CONFIG_FIELDS.filter((f) => f.group === g && shownField(f.key));
        if (!fields.length) return null;
        const bad = fields.filter((f) => withIssues.has(f.key)).length;
        return (
          <details key={g} className="settings-group" data-testid={`group-${g}`}>
            <summary>
              {g}
              {bad > 0 && <span className="setting-issue-count"> ({bad} to fix)</span>}
            </summary>
            {fields.map((f) => (
              <FieldRow key={f.key} f={f} pending={showPending && pending.includes(f.key)} locked={locked} />
            ))}
          </details>
        );
      })}
      <ExportConfig />
    </section>
  );
}
