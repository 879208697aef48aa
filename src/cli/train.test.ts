import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { parseCli, run } from './train';
import { DEFAULT_CONFIG } from '../core/config';

describe('train CLI', () => {
  it('resolves flags onto the default config', () => {
    const o = parseCli(['--steps', '7', '--seed', '3', '--selection', 'knn', '--mix', 'mixup', '--backend', 'cpu']);
    expect(o.steps).toBe(7);
    expect(o.backend).toBe('cpu');
    expect(o.config.seed).toBe(3);
    expect(o.config.selection).toBe('knn');
    expect(o.config.mix).toBe('mixup');
    expect(o.config.totalSteps).toBe(7);
    expect(o.config.temperature).toBe(DEFAULT_CONFIG.temperature);
  });

  for (const [args, msg] of [
    [['--selection', 'nearest'], /--selection must be one of none, knn, cluster, center-wise/],
    [['--steps=-1'], /--steps must be a whole number/], [['--steps', '2.5'], /--steps must be a whole number/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--backend', 'webgpu'], /--backend must be one of wasm, cpu/],
    [['--dataset', 'mnist'], /--dataset must be one of shapes, fashion-mnist \(got "mnist"\)/],
  ] as const) {
    it(`rejects ${args.join(' ')} with a specific message`, () => {
      expect(() => parseCli([...args])).toThrow(msg);
    });
  }

  it('exits with code 2 and a one-line error on a bad flag', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/train.ts', '--mix', 'blend'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: --mix must be one of none, cutmix, mixup \(got "blend"\)/);
  });

  it('--steps 0 evaluates the untrained encoder and writes an empty history', async () => {
    const cfg = { ...DEFAULT_CONFIG, width: 4, projHidden: 16, projDim: 8, queueSize: 16, batchSize: 8, clusters: 4 };
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'clim-'));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ width: cfg.width, projHidden: cfg.projHidden, projDim: cfg.projDim, queueSize: cfg.queueSize, batchSize: cfg.batchSize, clusters: cfg.clusters }));
    const lines: string[] = [];
    const report = await run(['--steps', '0', '--backend', 'wasm', '--config', join(dir, 'c.json'), '--quiet'], (s) => lines.push(s));
    expect(report?.history).toEqual([]);
    expect(report?.eval.knnTop1).toBe(report?.eval.initialKnnTop1);
    expect(report?.eval.knnTop1).toBeGreaterThan(0);
    expect(report?.config.width).toBe(4);
    expect(report?.backend).toBe('wasm');
  });

  it('--dataset fashion-mnist --steps 0 reads the committed file and evaluates on 10000 + 2000 labelled images', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'clim-'));
    // Tiny model: the cost is the bank pass and kNN over all 12,000 images.
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ width: 4, stemStride: 2, stages: 2, groups: 4, resolutions: [16], projHidden: 16, projDim: 8, queueSize: 16, batchSize: 8, clusters: 4 }));
    const lines: string[] = [];
    const t0 = Date.now();
    const report = await run(['--dataset', 'fashion-mnist', '--steps', '0', '--backend', 'wasm', '--config', join(dir, 'c.json'), '--quiet'], (s) => lines.push(s));
    console.log(`fashion-mnist --steps 0: ${((Date.now() - t0) / 1000).toFixed(1)} s, kNN ${report?.eval.knnTop1}`);
    expect(report?.dataset).toEqual({ id: 'fashion-mnist:10000+2000', train: 10000, test: 2000, labelled: true });
    expect(report?.history).toEqual([]);
    // Ten classes: an untrained encoder is well above chance (0.1) on Fashion-MNIST.
    expect(report?.eval.knnTop1).toBeGreaterThan(0.2);
  });
});
