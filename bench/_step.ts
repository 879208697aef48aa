import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { defaultConfig } from '../src/core/config';
import { Trainer } from '../src/core/train';
import { makeShapesDataset } from '../src/core/data/shapes';
async function main() {
  await tf.setBackend('wasm'); await tf.ready();
  const t = await Trainer.create({ ...defaultConfig(), climWarmupSteps: 0 }, makeShapesDataset({ seed: 1 }));
  for (let i = 0; i < 2; i++) await t.trainStep();
  const ts: number[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < Number(process.argv[2] ?? 12); i++) { const t0 = performance.now(); await t.trainStep(); ts.push(performance.now() - t0); }
  const c = process.cpuUsage(c0);
  const s = [...ts].sort((a, b) => a - b);
  console.log('median', s[s.length >> 1].toFixed(1), 'min', s[0].toFixed(1), 'all', ts.map((x) => x.toFixed(0)).join(' '), 'user', (c.user / 1e3 / ts.length).toFixed(0), 'sys', (c.system / 1e3 / ts.length).toFixed(0));
}
main();
