import { describe, expect, it } from 'vitest';
import type { EvalResult, StepMetrics } from '../api';
import { tinyConfig } from '../config';
import {
  STEP_COLUMNS,
  configJson,
  evalCsv,
  metadataTsv,
  metricsCsv,
  projectorConfig,
  spriteCapacity,
  spriteRgba,
  vectorsTsv,
} from './projector';

describe('projector exports', () => {
  it('vectorsTsv: 2 vectors of dim 3 → two tab-separated lines', () => {
    const v = Float32Array.from([1, -0.5, 0, 0.25, 2, -3]);
    expect(vectorsTsv(v, 3)).toBe('1\t-0.5\t0\n0.25\t2\t-3\n');
    // float32 values print as their float32 value (shortest round trip of the double)
    expect(vectorsTsv(Float32Array.from([0.1]), 1)).toBe(`${Math.fround(0.1)}\n`);
    expect(vectorsTsv(new Float32Array(0), 4)).toBe('');
    expect(() => vectorsTsv(new Float32Array(5), 3)).toThrow(/not rows of 3/);
  });

  it('metadataTsv: header, empty label for null, tabs/newlines in names escaped', () => {
    const tsv = metadataTsv([
      { label: 'circle', cluster: 2, name: 'train/0' },
      { label: null, cluster: 0, name: 'a\tb\nc.png' },
    ]);
    expect(tsv).toBe('label\tcluster\tname\ncircle\t2\ttrain/0\n\t0\ta\\tb\\nc.png\n');
    expect(tsv.split('\n')[2].split('\t')).toHaveLength(3);
  });

  it('metadataTsv: a class or file name holding tab, newline, CR, U+2028 or U+202E stays one cell of one row, and visible', () => {
    const hostile = ['a\tb', 'a\nb', 'a\rb', 'a\u2028b', 'a\u202Egnp.exe'];
    const tsv = metadataTsv(hostile.map((h, i) => ({ label: `label ${h}`, cluster: i, name: `dir/${h}.png` })));
    const lines = tsv.split('\n');
    // Header + one line per row + the final newline's empty tail: no row was split.
    expect(lines).toHaveLength(hostile.length + 2);
    expect(tsv).not.toMatch(/[\r\u2028\u2029\u202a-\u202e]/);
    expect(lines.slice(1, -1).map((l) => l.split('\t'))).toEqual([
      ['label a\\tb', '0', 'dir/a\\tb.png'],
      ['label a\\nb', '1', 'dir/a\\nb.png'],
      ['label a\\rb', '2', 'dir/a\\rb.png'],
      ['label a\\u2028b', '3', 'dir/a\\u2028b.png'],
      ['label a\\u202egnp.exe', '4', 'dir/a\\u202egnp.exe.png'],
    ]);
  });

  it('spriteRgba: 5 images of 2×2 → a 3×3 grid (6×6 px), row-major, black opaque padding', () => {
    const size = 2;
    const images = new Uint8Array(5 * size * size * 3);
    // image i, pixel (x, y), channel c = 100·c + 10·i + 2y + x + 1 (distinct, never 0)
    for (let i = 0; i < 5; i++)
      for (let y = 0; y < 2; y++)
        for (let x = 0; x < 2; x++)
          for (let c = 0; c < 3; c++) images[i * 12 + (y * 2 + x) * 3 + c] = 100 * c + 10 * i + 2 * y + x + 1;
    const s = spriteRgba(images, 5, size);
    expect([s.width, s.height, s.cols, s.count]).toEqual([6, 6, 3, 5]);
    expect(s.rgba.length).toBe(6 * 6 * 4);
    const at = (x: number, y: number) => Array.from(s.rgba.subarray((y * 6 + x) * 4, (y * 6 + x) * 4 + 4));
    expect(at(0, 0)).toEqual([1, 101, 201, 255]); // image 0, pixel (0,0)
    expect(at(1, 1)).toEqual([4, 104, 204, 255]); // image 0, pixel (1,1)
    expect(at(3, 0)).toEqual([12, 112, 212, 255]); // image 1, pixel (1,0): column 1 starts at x = 2
    expect(at(4, 1)).toEqual([23, 123, 223, 255]); // image 2, pixel (0,1)
    expect(at(0, 2)).toEqual([31, 131, 231, 255]); // image 3: second row of the grid
    expect(at(3, 3)).toEqual([44, 144, 244, 255]); // image 4, pixel (1,1)
    for (const [x, y] of [
      [4, 2],
      [5, 3],
      [0, 4],
      [5, 5],
      [2, 5],
    ])
      expect(at(x, y)).toEqual([0, 0, 0, 255]); // empty cells 5–8
    for (let i = 3; i < s.rgba.length; i += 4) expect(s.rgba[i]).toBe(255);
  });

  it('spriteRgba caps the tiled images to fit 8192×8192 px', () => {
    expect(spriteCapacity(128)).toBe(64 * 64);
    expect(spriteCapacity(3000)).toBe(4);
    const s = spriteRgba(new Uint8Array(5 * 3000 * 3000 * 3), 5, 3000);
    expect([s.count, s.cols, s.width, s.height]).toEqual([4, 2, 6000, 6000]);
    expect(() => spriteRgba(new Uint8Array(10), 1, 2)).toThrow(/fewer than 1/);
  });

  it('projectorConfig: the ProjectorConfig JSON shape', () => {
    const cfg = JSON.parse(
      projectorConfig({
        tensorName: 'clim step 40',
        tensorPath: 'vectors.tsv',
        metadataPath: 'metadata.tsv',
        spritePath: 'sprite.png',
        spriteSize: 16,
        shape: [48, 16],
      }),
    );
    expect(cfg).toEqual({
      embeddings: [
        {
          tensorName: 'clim step 40',
          tensorShape: [48, 16],
          tensorPath: 'vectors.tsv',
          metadataPath: 'metadata.tsv',
          sprite: { imagePath: 'sprite.png', singleImageDim: [16, 16] },
        },
      ],
    });
    expect(JSON.parse(projectorConfig({ tensorName: 't', tensorPath: 'v.tsv', shape: [1, 2] })).embeddings[0]).toEqual({
      tensorName: 't',
      tensorShape: [1, 2],
      tensorPath: 'v.tsv',
    });
  });

  it('metricsCsv: a header of every StepMetrics field and a null precision as an empty field', () => {
    const base: StepMetrics = {
      step: 1,
      loss: 2.5,
      lossAnchor: 2.25,
      lossPositive: 3,
      lr: 0.03,
      ms: 12,
      imagesPerSecond: 640,
      coverage: 1,
      precision: 0.5,
      lambdaMean: 0.75,
      selectionMs: 0.5,
      kmeansMs: 0,
      refreshMs: 0,
    };
    const text = metricsCsv([base, { ...base, step: 2, loss: 2.125, precision: null, kmeansMs: 4 }]);
    expect(text).toBe(
      'step,loss,lossAnchor,lossPositive,lr,ms,imagesPerSecond,coverage,precision,lambdaMean,selectionMs,kmeansMs,refreshMs\n' +
        '1,2.5,2.25,3,0.03,12,640,1,0.5,0.75,0.5,0,0\n' +
        '2,2.125,2.25,3,0.03,12,640,1,,0.75,0.5,4,0\n',
    );
    expect([...STEP_COLUMNS].sort()).toEqual(Object.keys(base).sort());
    expect(metricsCsv([])).toBe(
      'step,loss,lossAnchor,lossPositive,lr,ms,imagesPerSecond,coverage,precision,lambdaMean,selectionMs,kmeansMs,refreshMs\n',
    );
  });

  it('evalCsv: every field but the confusion matrix', () => {
    const e: EvalResult = {
      step: 10,
      knnTop1: 0.5,
      linearTop1: null,
      confusion: Int32Array.from([1, 2, 3, 4]),
      classes: 2,
      alignment: null,
      uniformity: -1.5,
      clusterPurity: null,
      clusterNmi: null,
      clusterAri: null,
      ms: 8,
    };
    expect(evalCsv([e])).toBe(
      'step,knnTop1,linearTop1,classes,alignment,uniformity,clusterPurity,clusterNmi,clusterAri,ms\n10,0.5,,2,,-1.5,,,,8\n',
    );
  });

  it('configJson parses back equal', () => {
    const c = tinyConfig({ seed: 9, resolutions: [16, 8] });
    const text = configJson(c);
    expect(JSON.parse(text)).toEqual(c);
    expect(text).toContain('\n  "seed": 9');
  });
});
