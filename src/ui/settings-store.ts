/**
 * The settings form's slice of the page store: a draft config the form edits
 * freely, its problems, the preset the run started from, and the notices of
 * a link that could not be read in full. The draft reaches the engine only
 * when valid, and then by the least disruptive route the run state allows:
 * a fresh run takes it whole, a paused run takes its live-safe fields without
 * losing its steps, and anything else waits for "Apply and restart".
 */
import { configJson, validateConfig, type ClimConfig } from '../core/config';
import { splitChanges } from '../core/config-fields';
import { presetConfig } from '../core/presets';
import type { EngineClient } from '../worker/client';
import type { ClimState, GetState, SetState, SettingsFields, SettingsState } from './store/state';

export type { SettingsFields, SettingsState } from './store/state';

export function initialSettings(config: ClimConfig): SettingsFields {
  return { draft: config, draftIssues: [], preset: null, notices: [], presetNote: null };
}

type RunView = Pick<ClimState, 'runState' | 'step'>;

/** Nothing trained yet: a new config costs nothing, so a valid draft applies at once. */
export function isFreshRun(s: RunView): boolean {
  return s.step === 0 && s.runState !== 'running' && s.runState !== 'preparing';
}

/** The form is read-only while a step may be running. */
export function settingsLocked(s: Pick<ClimState, 'runState'>): boolean {
  return s.runState === 'running' || s.runState === 'preparing';
}

/** Why Start (and Step) cannot be pressed because of the settings, or null. */
export function startBlocker(
  s: Pick<SettingsState, 'draftIssues'> & { ablation?: { status: string } | null },
): string | null {
  if (s.ablation?.status === 'running') return 'An ablation is training: stop it or let it finish first.';
  const n = s.draftIssues.length;
  if (n === 0) return null;
  return `Fix ${n === 1 ? 'the invalid setting' : `${n} invalid settings`} first: ${s.draftIssues[0].message}`;
}

/** Changed fields of the draft that only a new run can take. */
/**
 * `config.json` for `python -m clim_torch.train --config config.json`: the
 * settings as the form shows them (the draft, which on a fresh run is the
 * run's config), serialised by the export zip's own configJson so the two
 * files are the same and the Python trainer's load_config takes either.
 * Null while the form holds an invalid value: a file the trainer would
 * refuse is not offered.
 */
export function pytorchConfigJson(s: Pick<SettingsState, 'draft' | 'draftIssues'>): string | null {
  return s.draftIssues.length ? null : configJson(s.draft);
}

export function pendingRestart(s: Pick<ClimState, 'config' | 'draft'>): (keyof ClimConfig)[] {
  return splitChanges(s.config, s.draft).restart;
}

/** The settings slice's actions (its fields start from initialSettings). */
export function settingsActions(
  set: SetState,
  get: GetState,
  client: () => EngineClient | null,
): Omit<SettingsState, keyof SettingsFields> {
  return {
    editDraft(patch) {
      const s = get();
      if (settingsLocked(s)) return;
      const draft = { ...s.draft, ...patch };
      const draftIssues = validateConfig(draft);
      set({ draft, draftIssues });
      if (isFreshRun(s)) {
        if (draftIssues.length === 0) s.configure(draft);
        return;
      }
      // Mid-run: live-safe fields go to the paused run if they are valid on
      // their own, whatever else in the draft still waits or is wrong.
      const { live } = splitChanges(s.config, draft);
      if (Object.keys(live).length === 0) return;
      const next = { ...s.config, ...live };
      if (validateConfig(next).length) return;
      set({ config: next });
      client()?.setLive(live);
    },
    applyDraft() {
      const s = get();
      if (settingsLocked(s) || s.draftIssues.length) return;
      s.configure(s.draft);
    },
    discardDraft() {
      const s = get();
      set({ draft: s.config, draftIssues: [] });
    },
    choosePreset(id) {
      const s = get();
      if (settingsLocked(s)) return;
      set({ preset: id, presetNote: null });
      s.configure({ ...presetConfig(id), seed: s.config.seed });
    },
    applyLink(link) {
      const s = get();
      set({ preset: link.preset, notices: link.notices, presetNote: null });
      if (link.dataset !== null && link.dataset !== s.dataset) s.setDataset(link.dataset);
      const { live, restart } = splitChanges(s.config, link.config);
      if (restart.length || Object.keys(live).length) s.configure(link.config);
    },
    dismissNotices() {
      set({ notices: [] });
    },
  };
}
