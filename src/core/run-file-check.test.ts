import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { CheckpointError, encodeCheckpoint, type Checkpoint, type CheckpointMeta } from './checkpoint';
import { tinyConfig } from './config';
import { makeShapesDataset } from './data/shapes';
import { checkRunFile, describeProblems, readRunFile, type RunFileProblem } from './run-file-check';
import { RUN_FILE_LIMITS } from './run-file-values';
import { chartsFromApp } from './run-file-app';
import { smallRun } from './run-file-fixture.test-util';
import { Trainer } from './train';

type Json = Record<string, unknown>;

/** The fixture with its description changed by `edit` (on a JSON copy, as a hand-edited file would be). */
function edited(edit: (meta: Json) => void, tensors?: (ck: Checkpoint) => void): Checkpoint {
  const ck = smallRun();
  const meta = JSON.parse(JSON.stringify(ck.meta)) as Json;
  edit(meta);
  const out = { meta: meta as unknown as CheckpointMeta, tensors: ck.tensors };
  tensors?.(out);
  return out;
}

const tensor = (ck: Checkpoint, name: string) => ck.tensors.find((t) => t.name === name)!;
const app = (m: Json) => m.app as { history: Json[]; evals: Json[] };
const config = (m: Json) => m.config as Json;

/** Through the bytes, as the app reads a file: the problems, or [] when accepted. */
function problemsOf(ck: Checkpoint): RunFileProblem[] {
  const bytes = encodeCheckpoint(ck);
  try {
    readRunFile(bytes);
    return [];
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    expect(e.kind).toBe('invalid');
    const r = checkRunFile({ meta: JSON.parse(JSON.stringify(ck.meta)), tensors: ck.tensors });
    expect(r.ok).toBe(false);
    return r.ok ? [] : r.problems;
  }
}

describe('checkRunFile accepts what the app writes', () => {
  it('a good file round-trips exactly: description and tensors as written (confusion back as Int32Array)', () => {
    const ck = smallRun();
    const back = readRunFile(encodeCheckpoint(ck));
    expect(back.meta).toEqual(ck.meta);
    expect((back.meta.app as { evals: Array<{ confusion: unknown }> }).evals[1].confusion).toBeInstanceOf(Int32Array);
    expect(back.tensors.map((t) => [t.name, t.dtype, t.shape, Array.from(t.data)])).toEqual(
      ck.tensors.map((t) => [t.name, t.dtype, t.shape, Array.from(t.data)]),
    );
    // Saved again, it reads back the same (key order aside, the JSON is the same).
    expect(readRunFile(encodeCheckpoint(back)).meta).toEqual(ck.meta);
  });

  it('a file without app state, one before the first k-means, and one saved before bankView existed', () => {
    expect(problemsOf(edited((m) => delete m.app))).toEqual([]);
    const noClusters = edited(
      (m) => (m.clusterSizes = null),
      (ck) => (ck.tensors = ck.tensors.filter((t) => !t.name.startsWith('kmeans/'))),
    );
    expect(problemsOf(noClusters)).toEqual([]);
    const old = edited((m) => {
      delete config(m).bankView;
      delete config(m).bankRefreshEvery;
      delete config(m).bankSpace;
    });
    const back = readRunFile(encodeCheckpoint(old));
    expect(back.meta.config.bankView).toBe('augmented');
  });
});

describe('checkRunFile refuses crafted descriptions, naming the field, the fault and what was found', () => {
  const cases: Array<[string, (m: Json) => void, ((ck: Checkpoint) => void) | null, RegExp]> = [
    // Issue 16, item 1: the Evaluation card called .toFixed on these.
    [
      'evals entries without fields',
      (m) => (app(m).evals = [{ step: 10 }, {}]),
      null,
      /^app\.evals\[0\]\.knnTop1 is missing \(a number from 0 to 1, or null is expected\)/,
    ],
    [
      'an eval field of the wrong type',
      (m) => (app(m).evals[1].alignment = 'high'),
      null,
      /app\.evals\[1\]\.alignment must be a finite number, or null; found "high" \(text\)/,
    ],
    [
      'a confusion matrix of the wrong size',
      (m) => (app(m).evals[1].confusion = [1, 2, 3]),
      null,
      /app\.evals\[1\]\.confusion must be null or 2×2 counts/,
    ],
    [
      'a billion classes',
      (m) => (app(m).evals[1].classes = 1e9),
      null,
      /app\.evals\[1\]\.classes must be a whole number from 0 to 1000000; found 1000000000/,
    ],
    [
      'a history entry with a text loss',
      (m) => (app(m).history[0].loss = '3.2'),
      null,
      /app\.history\[0\]\.loss must be a finite number; found "3\.2" \(text\)/,
    ],
    [
      'a history that is not a list',
      (m) => ((m.app as Json).history = { 0: {} }),
      null,
      /app\.history must be a list of steps; found an object/,
    ],
    [
      'a history longer than the app keeps',
      (m) => (app(m).history = Array.from({ length: RUN_FILE_LIMITS.maxHistory + 1 }, () => app(m).history[0])),
      null,
      /app\.history must list 0 to 10000 steps; found 10001/,
    ],
    // Issue 16, item 2: GatherV2 saw this index at the next Step.
    [
      'an epoch index of 1e9',
      () => {},
      (ck) => (tensor(ck, 'sampler/order').data[3] = 1e9),
      /^tensor "sampler\/order"\[3\] must be an index from 0 to 7 \(the data set has 8 training images\); found 1000000000/,
    ],
    [
      'a negative epoch index',
      () => {},
      (ck) => (tensor(ck, 'sampler/order').data[0] = -1),
      /tensor "sampler\/order"\[0\] must be an index from 0 to 7 .*found -1/,
    ],
    [
      'an epoch order that repeats an index',
      () => {},
      (ck) => (tensor(ck, 'sampler/order').data[1] = 5),
      /tensor "sampler\/order"\[1\] repeats index 5/,
    ],
    [
      'an epoch order one short',
      () => {},
      (ck) => Object.assign(tensor(ck, 'sampler/order'), { shape: [7], data: Int32Array.from([0, 1, 2, 3, 4, 5, 6]) }),
      /tensor "sampler\/order" must be int32 \[8\] \(the epoch order of 8 training images\); found int32 \[7\]/,
    ],
    [
      'a queue pointer of 1e9',
      (m) => (m.queuePointers = [1e9]),
      null,
      /^queuePointers\[0\] must be a whole number from 0 to 31 \(queue 0 has 32 rows\); found 1000000000/,
    ],
    [
      'a negative queue pointer',
      (m) => (m.queuePointers = [-1]),
      null,
      /queuePointers\[0\] must be a whole number from 0 to 31 .*found -1/,
    ],
    ['a queue pointer equal to the queue size', (m) => (m.queuePointers = [32]), null, /queuePointers\[0\] .*found 32/],
    [
      'a NaN queue pointer (JSON writes null)',
      (m) => (m.queuePointers = [NaN]),
      null,
      /queuePointers\[0\] .*found null/,
    ],
    ['a fractional queue pointer', (m) => (m.queuePointers = [2.5]), null, /queuePointers\[0\] .*found 2\.5/],
    [
      'two queue pointers for one queue',
      (m) => (m.queuePointers = [1, 2]),
      null,
      /queuePointers must list 1 queue pointers \(one per resolution, 1\); found 2/,
    ],
    [
      'a queue id of 1e9',
      () => {},
      (ck) => (tensor(ck, 'queue0/ids').data[0] = 1e9),
      /tensor "queue0\/ids"\[0\] must be -1 or an index from 0 to 7 .*found 1000000000/,
    ],
    [
      'a sampler position past the epoch',
      (m) => (m.samplerPos = 9),
      null,
      /samplerPos must be a whole number from 0 to 8 \(the epoch order has 8 places\); found 9/,
    ],
    [
      'cluster sizes that do not count the assignments',
      (m) => (m.clusterSizes = [4, 2, 2]),
      null,
      /clusterSizes\[0\] must count the images assigned to cluster 0 \(3\); found 4/,
    ],
    [
      'two cluster sizes for three clusters',
      (m) => (m.clusterSizes = [4, 4]),
      null,
      /clusterSizes must list 3 cluster sizes/,
    ],
    [
      'a k-means rank off its run',
      () => {},
      (ck) => (tensor(ck, 'kmeans/rank').data[7] = 0),
      /tensor "kmeans\/rank"\[\d\] must place image \d in its cluster's run/,
    ],
    [
      'a k-means assignment of 1e9',
      () => {},
      (ck) => (tensor(ck, 'kmeans/assignments').data[2] = 1e9),
      /tensor "kmeans\/assignments"\[2\] must be an index from 0 to 2 \(there are 3 clusters\); found 1000000000/,
    ],
    ['a random stream of three numbers', (m) => (m.rng = [1, 2, 3]), null, /^rng must list 4 whole numbers/],
    ['a random stream stuck at zero', (m) => (m.samplerRng = [0, 0, 0, 0]), null, /samplerRng must not be all zeros/],
    [
      '__proto__ in the settings',
      (m) => Object.defineProperty(config(m), '__proto__', { value: { lr: 5 }, enumerable: true }),
      null,
      /^config "__proto__" is not a config field \(it names JavaScript's object machinery\)/,
    ],
    [
      'constructor in the settings',
      (m) => Object.defineProperty(config(m), 'constructor', { value: { name: 'x' }, enumerable: true }),
      null,
      /config "constructor" is not a config field/,
    ],
    ['an unknown setting', (m) => (config(m).turbo = true), null, /config unknown field "turbo"/],
    ['a missing setting', (m) => delete config(m).queueSize, null, /^config\.queueSize is missing/],
    [
      'a setting of the wrong type',
      (m) => (config(m).lr = '0.06'),
      null,
      /^config\.lr must be a number; found "0\.06" \(text\)/,
    ],
    [
      'a setting out of range',
      (m) => (config(m).lr = 50),
      null,
      /^config\.lr must be a number above 0 and at most 10 \(got 50\)/,
    ],
    [
      'nested lists as resolutions',
      (m) => (config(m).resolutions = [[[16]]]),
      null,
      /^config\.resolutions must be a short list of numbers; found a list of 1 item/,
    ],
    [
      'the settings as a list',
      (m) => (m.config = [1, 2]),
      null,
      /^config must be an object of settings; found a list of 2 items/,
    ],
    [
      'a step as text',
      (m) => (m.step = '12'),
      null,
      /^step must be a whole number from 0 to 2147483647; found "12" \(text\)/,
    ],
    ['another format version inside', (m) => (m.version = 2), null, /^version must be 1/],
    [
      'a date that is not one',
      (m) => (m.savedAt = 'yesterday'),
      null,
      /^savedAt must be a date and time; found "yesterday"/,
    ],
    ['a description key of its own', (m) => (m.extra = 1), null, /^description\.extra is not a field of a run file/],
    [
      'a fingerprint that disagrees with the counts',
      (m) => ((m.dataset as Json).train = 9),
      null,
      /dataset\.fingerprint names 8 \+ 2 images of 16 pixels, but the description says 9 \+ 2 of 16/,
    ],
    [
      'a data set of 2 GB',
      (m) =>
        Object.assign(m.dataset as Json, {
          train: 1e6,
          test: 1e6,
          fingerprint: '1024:1000000+1000000:0badc0de',
          size: 1024,
        }),
      null,
      /dataset 1000000 \+ 1000000 images of 1024×1024 pixels would need more than 2 GB/,
    ],
    [
      'a source of unknown kind',
      (m) => ((m.dataset as Json).source = { kind: 'http', url: 'x' }),
      null,
      /dataset\.source\.kind must be "builtin" or "upload"; found "http"/,
    ],
    [
      'a built-in source with a path for a name',
      (m) => (((m.dataset as Json).source as Json).name = '../../etc'),
      null,
      /dataset\.source\.name must name a built-in data set/,
    ],
  ];

  for (const [what, edit, tensorEdit, message] of cases) {
    it(what, () => {
      const problems = problemsOf(edited(edit, tensorEdit ?? undefined));
      expect(problems.length).toBeGreaterThan(0);
      const lines = problems.map((p) => `${p.path} ${p.message}`);
      expect(
        lines.some((l) => message.test(l)),
        lines.join('\n'),
      ).toBe(true);
    });
  }

  it('huge text is cut in the message, and the refusal is one readable sentence list', () => {
    const huge = 'x'.repeat(1_000_000);
    const ck = edited((m) => {
      (m.dataset as Json).id = huge;
      config(m)[huge] = 1;
      m.savedAt = huge;
    });
    const e = (() => {
      try {
        readRunFile(encodeCheckpoint(ck));
      } catch (x) {
        return x as CheckpointError;
      }
      throw new Error('accepted');
    })();
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toMatch(/^The run file's description does not hold up \(3 problems\): /);
    expect(e.message).toMatch(
      /dataset\.id must be at most 1024 characters; found "x{40}… \(1000000 characters\)" \(text\)/,
    );
    expect(e.message.length).toBeLessThan(1000);
  });

  it('a description that is not an object, and the problem count past the listed ones', () => {
    const r = checkRunFile({ meta: [1, 2, 3], tensors: [] });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems[0]).toEqual({
      path: 'description',
      message: 'must be an object; found a list of 3 items.',
    });
    const many = Array.from({ length: 8 }, (_, i) => ({ path: `p${i}`, message: 'is wrong.' }));
    expect(describeProblems(many, 4)).toBe(
      "The run file's description does not hold up (12 problems): p0 is wrong. p1 is wrong. p2 is wrong. p3 is wrong. p4 is wrong. …and 7 more.",
    );
  });
});

describe('chartsFromApp keeps what holds up', () => {
  it('drops malformed entries instead of passing them to the page', () => {
    const good = smallRun().meta.app as { history: unknown[]; evals: unknown[] };
    const charts = chartsFromApp({
      history: [good.history[0], { step: 'x' }, null],
      evals: [{ step: 3 }, good.evals[1], 'junk'],
    });
    expect(charts.history).toEqual([good.history[0]]);
    expect(charts.evals).toEqual([good.evals[1]]);
    expect(chartsFromApp(undefined)).toEqual({ history: [], evals: [] });
    expect(chartsFromApp('nonsense')).toEqual({ history: [], evals: [] });
    expect(chartsFromApp({ history: 5, evals: { length: 1e9 } })).toEqual({ history: [], evals: [] });
  });
});

// A run the trainer really wrote: the check must accept it, and Trainer.restore must refuse the edited ones before building anything.
describe('a trained run file', () => {
  const data = makeShapesDataset({ seed: 4, nTrain: 64, nTest: 16, size: 16 });
  let ck: Checkpoint;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    const t = await Trainer.create(
      tinyConfig({ seed: 21, kmeansEvery: 3, climWarmupSteps: 2, resolutions: [16, 8] }),
      data,
    );
    for (let i = 0; i < 4; i++) await t.trainStep();
    ck = await t.checkpoint({ app: { history: [], evals: [await t.evaluate({ full: true })] } });
    t.dispose();
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('passes the check as written, k-means state included', () => {
    expect(ck.meta.clusterSizes).not.toBeNull();
    const back = readRunFile(encodeCheckpoint(ck));
    expect(back.meta).toEqual(ck.meta);
  });

  it('Trainer.restore refuses an epoch index of 1e9 and a queue pointer of 1e9 (accepted before issue 16), leaving no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const order = ck.tensors.find((t) => t.name === 'sampler/order')!;
    const badOrder = {
      ...ck,
      tensors: ck.tensors.map((t) =>
        t === order ? { ...t, data: Int32Array.from(t.data, (v, i) => (i === 0 ? 1e9 : v)) } : t,
      ),
    };
    const e1 = await Trainer.restore(badOrder, data).catch((x: unknown) => x);
    expect(e1).toBeInstanceOf(CheckpointError);
    expect((e1 as CheckpointError).kind).toBe('invalid');
    expect((e1 as CheckpointError).message).toMatch(
      /tensor "sampler\/order"\[0\] must be an index from 0 to 63 .*found 1000000000/,
    );
    const badPointer = { ...ck, meta: { ...ck.meta, queuePointers: [1e9, 0] } };
    await expect(Trainer.restore(badPointer, data)).rejects.toThrow(
      /queuePointers\[0\] must be a whole number from 0 to 31/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
