import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { classFolder, exportFashionMnistFolder } from './export-fashion-mnist-folder';
import { FASHION_MNIST_SOURCE, SIDE, readSource } from './make-fashion-mnist';
import { FASHION_MNIST_CLASSES } from '../src/core/data/fashion-mnist';

const haveSource = existsSync(join(FASHION_MNIST_SOURCE, 'train-images-idx3-ubyte.gz'));

describe.skipIf(!haveSource)('export-fashion-mnist-folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clim-fm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes perClass grey PNGs per class folder, each equal to its source image and label', () => {
    const files = exportFashionMnistFolder(join(dir, 'a'), 3);
    expect(files).toHaveLength(30);
    const byFolder = new Map<string, number>();
    for (const f of files) byFolder.set(f.split('/')[0], (byFolder.get(f.split('/')[0]) ?? 0) + 1);
    expect([...byFolder.keys()].sort()).toEqual(FASHION_MNIST_CLASSES.map(classFolder).sort());
    expect([...byFolder.values()]).toEqual(new Array(10).fill(3));
    expect(classFolder('T-shirt/top')).toBe('T-shirt-top');

    const src = readSource(FASHION_MNIST_SOURCE, 'train');
    for (const f of [files[0], files[17], files[29]]) {
      const [folder, name] = f.split('/');
      const i = Number(name.replace('.png', ''));
      expect(classFolder(FASHION_MNIST_CLASSES[src.labels[i]])).toBe(folder);
      const bytes = readFileSync(join(dir, 'a', f));
      expect(bytes[25]).toBe(0); // IHDR colour type 0: grey
      const png = PNG.sync.read(bytes);
      expect([png.width, png.height]).toEqual([SIDE, SIDE]);
      const grey = Array.from(png.data.filter((_, k) => k % 4 === 0));
      expect(grey).toEqual(Array.from(src.images.subarray(i * SIDE * SIDE, (i + 1) * SIDE * SIDE)));
    }
  });

  it('is deterministic and refuses a folder that is not empty', () => {
    const again = exportFashionMnistFolder(join(dir, 'b'), 3);
    expect(again).toEqual(exportFashionMnistFolder(join(dir, 'c'), 3));
    expect(readFileSync(join(dir, 'b', again[5]))).toEqual(readFileSync(join(dir, 'c', again[5])));
    expect(() => exportFashionMnistFolder(join(dir, 'b'), 3)).toThrow(`${join(dir, 'b')} is not empty`);
  });
});
