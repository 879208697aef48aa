/**
 * Writes a built-in data set and a run config for the PyTorch reference
 * (bench/reference/clim_ref.py): one JSON header line, then per split the
 * uint8 images (N×S×S×3) and the int32 labels.
 *
 *   npx tsx bench/reference/export-data.ts [--dataset shapes] [--out bench/reference/out]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../../src/core/config';
import { makeShapesDataset } from '../../src/core/data/shapes';
import type { Split } from '../../src/core/data/dataset';

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'shapes' },
    out: { type: 'string', default: 'bench/reference/out' },
    seed: { type: 'string', default: '1' },
  },
});
if (values.dataset !== 'shapes') throw new Error(`unknown data set ${values.dataset}`);
const data = makeShapesDataset({ seed: Number(values.seed) });
mkdirSync(values.out!, { recursive: true });

const labels = (s: Split) => new Uint8Array((s.labels ?? new Int32Array(s.n).fill(-1)).buffer.slice(0));
const header =
  JSON.stringify({
    id: data.id,
    size: data.size,
    train: data.train.n,
    test: data.test.n,
    classNames: data.classNames,
  }) + '\n';
const file = join(values.out!, `${values.dataset}.bin`);
writeFileSync(
  file,
  Buffer.concat([Buffer.from(header), data.train.images, labels(data.train), data.test.images, labels(data.test)]),
);
writeFileSync(join(values.out!, 'default-config.json'), JSON.stringify(defaultConfig(), null, 1));
console.log(`wrote ${file} (${data.train.n} + ${data.test.n} images) and default-config.json`);
