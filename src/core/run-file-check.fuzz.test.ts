/**
 * Property-based fuzzing of the run-file reader (decodeCheckpoint +
 * checkRunFile): random bytes, a valid file's bytes flipped, truncated and
 * spliced, its description's fields replaced, deleted or joined by prototype
 * keys, and its index tensors rewritten. Every input either reads, and then
 * satisfies what the trainer relies on, or is refused with a CheckpointError
 * carrying a short message; nothing else is ever thrown.
 *
 * Seeded and bounded, so it takes seconds in `npm test`. To fuzz longer:
 *   FUZZ_RUNS=20000 FUZZ_SEED=$RANDOM npx vitest run src/core/run-file-check.fuzz.test.ts
 * (a failure prints its seed and path; rerun with that FUZZ_SEED to replay it).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CHECKPOINT_MAGIC,
  CheckpointError,
  encodeCheckpoint,
  type Checkpoint,
  type CheckpointMeta,
} from './checkpoint';
import { validateConfig } from './config';
import { checkRunFile, readRunFile } from './run-file-check';
import { smallRun } from './run-file-fixture.test-util';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = Number(process.env.FUZZ_SEED ?? 1);
const params = { numRuns: RUNS, seed: SEED };

/** Longest refusal message: a few problems with their values cut, never the file's own megabytes. */
const MAX_MESSAGE = 2000;

/** What the trainer and the page rely on from a run that was accepted. */
function holdsUp(ck: Checkpoint): void {
  const m = ck.meta;
  expect(validateConfig(m.config)).toEqual([]);
  const n = m.dataset.train;
  const order = ck.tensors.find((t) => t.name === 'sampler/order')!.data;
  expect(order.length).toBe(n);
  expect(Array.from(order).every((v) => v >= 0 && v < n)).toBe(true);
  expect(m.samplerPos >= 0 && m.samplerPos <= n).toBe(true);
  expect(m.queuePointers.length).toBe(m.config.resolutions.length);
  expect(m.queuePointers.every((p) => Number.isInteger(p) && p >= 0 && p < Math.max(1, m.config.queueSize))).toBe(true);
  const app = m.app as { history: Array<Record<string, unknown>>; evals: Array<Record<string, unknown>> } | undefined;
  for (const e of app?.evals ?? []) {
    for (const k of ['knnTop1', 'linearTop1', 'alignment', 'uniformity', 'clusterPurity', 'clusterNmi', 'clusterAri']) {
      expect(e[k] === null || Number.isFinite(e[k])).toBe(true);
    }
  }
  for (const h of app?.history ?? []) expect(Number.isFinite(h.loss)).toBe(true);
}

/** Reads `bytes`; only a CheckpointError with a short message may escape. */
function read(bytes: Uint8Array): void {
  let ck: Checkpoint;
  try {
    ck = readRunFile(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    const msg = (e as CheckpointError).message;
    expect(msg.length).toBeGreaterThan(10);
    expect(msg.length).toBeLessThan(MAX_MESSAGE);
    return;
  }
  holdsUp(ck);
}

const good = encodeCheckpoint(smallRun());
const goodMetaJson = (): Record<string, unknown> =>
  JSON.parse(JSON.stringify(smallRun().meta)) as Record<string, unknown>;
const headerEnd = 16 + new DataView(good.buffer).getUint32(12, true);

/** Values a hand-edited description might hold. */
const hostile = fc.oneof(
  fc.constantFrom(
    1e9,
    -1,
    0,
    1,
    0.5,
    2 ** 31,
    2 ** 32,
    -0,
    Number.MAX_SAFE_INTEGER,
    NaN,
    Infinity,
    -Infinity,
    '',
    '0',
    'x'.repeat(5000),
    null,
    true,
    false,
    [],
    {},
    [1e9],
    [[[[1]]]],
  ),
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 20 }),
);

/** A path into the description: each number picks a child (modulo their count) until `depth` steps are taken. */
type Edit = { path: number[]; op: 'set' | 'delete' | 'proto' | 'shorten'; value: unknown };

function applyEdit(root: Record<string, unknown>, e: Edit): void {
  let node: unknown = root;
  for (let i = 0; i < e.path.length; i++) {
    const keys = node && typeof node === 'object' ? Object.keys(node) : [];
    if (keys.length === 0) break;
    const key = keys[e.path[i] % keys.length];
    const child = (node as Record<string, unknown>)[key];
    const last = i === e.path.length - 1 || !child || typeof child !== 'object';
    if (last) {
      const parent = node as Record<string, unknown>;
      if (e.op === 'set') parent[key] = e.value;
      else if (e.op === 'delete') delete parent[key];
      else if (e.op === 'shorten' && Array.isArray(child)) child.length = Math.floor(child.length / 2);
      else if (e.op === 'proto')
        Object.defineProperty(parent, '__proto__', {
          value: e.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return;
    }
    node = child;
  }
}

const edit: fc.Arbitrary<Edit> = fc.record({
  path: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
  op: fc.constantFrom('set', 'set', 'set', 'delete', 'proto', 'shorten'),
  value: hostile,
});

describe('run file fuzz (seed ' + SEED + ', ' + RUNS + ' runs per property)', () => {
  it('the unedited fixture reads and holds up', () => {
    holdsUp(readRunFile(good));
  });

  it('random bytes, with and without the signature, are refused with a CheckpointError', () => {
    const magic = new TextEncoder().encode(CHECKPOINT_MAGIC);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.boolean(), (bytes, signed) => {
        const b = signed ? Uint8Array.from([...magic, 1, 0, 0, 0, ...bytes]) : bytes;
        read(b);
      }),
      params,
    );
  });

  it('a valid file flipped, truncated or spliced: read only if it holds up, else a CheckpointError', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat()),
        fc.boolean(),
        (flips, cut, inHeader) => {
          const b = good.slice();
          // Half the flips land in the description, where the checksum does not look.
          for (const f of flips) b[inHeader ? 16 + (f.at % (headerEnd - 16)) : f.at % b.length] ^= f.xor;
          read(cut === null ? b : b.subarray(0, cut % (b.length + 1)));
        },
      ),
      params,
    );
  });

  it('a description edited field by field (values, deletions, __proto__ keys, shortened lists), re-encoded: read only if it holds up', () => {
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        const meta = goodMetaJson();
        for (const e of edits) applyEdit(meta, e);
        read(encodeCheckpoint({ meta: meta as unknown as CheckpointMeta, tensors: smallRun().tensors }));
      }),
      params,
    );
  });

  it('the same edits straight to checkRunFile, NaN and undefined included: it never throws', () => {
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        const meta = goodMetaJson();
        for (const e of edits) applyEdit(meta, e);
        const r = checkRunFile({ meta, tensors: smallRun().tensors });
        if (r.ok) holdsUp(r.checkpoint);
        else expect(r.problems.length).toBeGreaterThan(0);
      }),
      params,
    );
  });

  it('index tensors rewritten with random values: read only if every index still fits', () => {
    const names = ['sampler/order', 'queue0/ids', 'kmeans/assignments', 'kmeans/order', 'kmeans/start', 'kmeans/rank'];
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.array(fc.record({ at: fc.nat(), v: fc.oneof(fc.integer({ min: -2, max: 10 }), fc.integer()) }), {
          minLength: 1,
          maxLength: 4,
        }),
        (name, writes) => {
          const ck = smallRun();
          const t = ck.tensors.find((x) => x.name === name)!;
          for (const w of writes) t.data[w.at % t.data.length] = w.v;
          read(encodeCheckpoint(ck));
        },
      ),
      params,
    );
  });
});
