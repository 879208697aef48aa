import { describe, expect, it } from 'vitest';
import { PRESETS, getPreset, pageDefaultPreset, presetConfig } from './presets';
import { DEFAULT_CONFIG, validateConfig } from './config';

describe('presets', () => {
  it('every preset is a valid config that overrides only known fields', () => {
    for (const p of PRESETS) {
      for (const k of Object.keys(p.overrides)) expect(k in DEFAULT_CONFIG, `${p.id}.${k}`).toBe(true);
      expect(validateConfig(presetConfig(p.id)), p.id).toEqual([]);
    }
  });

  it('ids are unique and the issue-named presets exist with their selection and mixing modes', () => {
    expect(new Set(PRESETS.map((p) => p.id)).size).toBe(PRESETS.length);
    const modes = (id: string) => [presetConfig(id).selection, presetConfig(id).mix];
    expect(modes('moco-v2')).toEqual(['none', 'none']);
    expect(modes('clim-paper')).toEqual(['center-wise', 'cutmix']);
    expect(modes('knn-only')).toEqual(['knn', 'none']);
    expect(modes('cluster-only')).toEqual(['cluster', 'none']);
    // The lesson contrasts center-wise with plain kNN at the same k.
    expect(presetConfig('lesson-center-vs-knn').knnK).toBe(presetConfig('knn-only').knnK);
  });

  it('the two lesson presets differ in the selection rule and nothing else', () => {
    const center = presetConfig('lesson-center-vs-knn');
    const knn = presetConfig('lesson-knn-same-k');
    expect([center.selection, knn.selection]).toEqual(['center-wise', 'knn']);
    expect({ ...center, selection: 'knn' }).toEqual(knn);
    expect([center.mix, center.knnK]).toEqual(['none', 10]);
  });

  it('presetConfig returns fresh arrays and unknown ids fail with the list of known ones', () => {
    const a = presetConfig('fast-demo-cpu');
    a.resolutions.push(16);
    expect(presetConfig('fast-demo-cpu').resolutions).toEqual([24]);
    expect(() => getPreset('nope')).toThrow(/unknown preset "nope".*moco-v2/);
  });

  it('the page starts CPU-only machines on the CPU-sized CLIM and GPUs on the paper preset', () => {
    expect(['webgpu', 'webgl', 'wasm', 'cpu'].map((b) => pageDefaultPreset(b, false))).toEqual([
      'clim-paper',
      'clim-paper',
      'clim-cpu',
      'clim-cpu',
    ]);
    expect(pageDefaultPreset('webgpu', true)).toBe('clim-cpu');
    // Same method, smaller: only the size fields differ from the paper preset.
    const cpu = presetConfig('clim-cpu');
    const paper = presetConfig('clim-paper');
    const differs = Object.keys(paper).filter(
      (k) => JSON.stringify(paper[k as keyof typeof paper]) !== JSON.stringify(cpu[k as keyof typeof cpu]),
    );
    expect(differs.sort()).toEqual([
      'batchSize',
      'climWarmupSteps',
      'kmeansEvery',
      'queueSize',
      'resolutions',
      'totalSteps',
    ]);
  });
});
