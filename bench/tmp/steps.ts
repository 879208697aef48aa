import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { defaultConfig } from '../../src/core/config';
import { Trainer } from '../../src/core/train';
import { makeShapesDataset } from '../../src/core/data/shapes';
async function main() {
  await tf.setBackend('wasm'); await tf.ready();
  const t = await Trainer.create({ ...defaultConfig(), climWarmupSteps: 0 }, makeShapesDataset({ seed: 1 }));
  for (let i = 0; i < 3; i++) await t.trainStep();
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) await t.trainStep();
  console.log('ms/step', (performance.now() - t0) / 10, 'tensors', tf.memory().numTensors);
  t.dispose();
}
main();
