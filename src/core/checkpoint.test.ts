import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_MAGIC,
  CHECKPOINT_VERSION,
  CheckpointError,
  checksumHex,
  decodeCheckpoint,
  encodeCheckpoint,
  fnv1a,
  packContainer,
  peekCheckpointMeta,
  type Checkpoint,
} from './checkpoint';
import { tinyConfig } from './config';

function sample(): Checkpoint {
  return {
    meta: {
      version: CHECKPOINT_VERSION,
      savedAt: '2026-11-28T12:00:00.000Z',
      step: 7,
      config: tinyConfig(),
      dataset: {
        id: 'shapes:x',
        fingerprint: '16:4+0:deadbeef',
        train: 4,
        test: 0,
        size: 16,
        source: { name: 'shapes' },
      },
      rng: [1, 2, 3, 4],
      samplerRng: [5, 6, 7, 8],
      samplerPos: 2,
      samplerEpoch: 1,
      queuePointers: [3],
      clusterSizes: [2, 2],
      optimizerSteps: 0,
      app: { history: [{ step: 1, loss: 2.5 }] },
    },
    tensors: [
      { name: 'a', dtype: 'float32', shape: [2, 3], data: Float32Array.from([1.5, -2, 3, 0, 1e-20, -0]) },
      { name: 'b', dtype: 'int32', shape: [3], data: Int32Array.from([-1, 0, 2147483647]) },
      { name: 'empty', dtype: 'float32', shape: [0, 4], data: new Float32Array(0) },
    ],
  };
}

function kindOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof CheckpointError) return e.kind;
    throw e;
  }
  return 'no error';
}

describe('run file format', () => {
  it('round-trips meta and tensors bit for bit', () => {
    const ck = sample();
    const bytes = encodeCheckpoint(ck);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe(CHECKPOINT_MAGIC);
    const back = decodeCheckpoint(bytes);
    expect(back.meta).toEqual(ck.meta);
    expect(back.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual(
      ck.tensors.map((t) => [t.name, t.dtype, t.shape]),
    );
    back.tensors.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(ck.tensors[i].data)));
    expect(Object.is(back.tensors[0].data[5], -0)).toBe(true);
    expect(back.tensors[1].data).toBeInstanceOf(Int32Array);
    expect(peekCheckpointMeta(bytes).step).toBe(7);
    // Payload is 4-aligned and exactly the tensors' bytes: 6 + 3 floats/ints of 4 bytes.
    expect((bytes.length - 36) % 4).toBe(0);
  });

  it('decodes the same from a Node Buffer (readFileSync), whose slice is a view, not a copy', () => {
    const ck = sample();
    const back = decodeCheckpoint(Buffer.from(encodeCheckpoint(ck)));
    back.tensors.forEach((t, i) => {
      expect(t.data.length).toBe(ck.tensors[i].data.length);
      expect(Array.from(t.data)).toEqual(Array.from(ck.tensors[i].data));
    });
  });

  it('FNV-1a matches the published test vectors', () => {
    const enc = new TextEncoder();
    expect(fnv1a(new Uint8Array(0))).toBe(0x811c9dc5);
    expect(fnv1a(enc.encode('a'))).toBe(0xe40c292c);
    expect(fnv1a(enc.encode('foobar'))).toBe(0xbf9cf968);
  });

  it('tells each bad file apart with its own message', () => {
    const good = encodeCheckpoint(sample());
    // Wrong file: a PNG signature, a JSON text, an empty file.
    expect(
      kindOf(() => decodeCheckpoint(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0, 0, 0, 0, 0, 0, 0]))),
    ).toBe('not-a-run-file');
    expect(kindOf(() => decodeCheckpoint(new TextEncoder().encode('{"config": {}}')))).toBe('not-a-run-file');
    expect(kindOf(() => decodeCheckpoint(new Uint8Array(0)))).toBe('not-a-run-file');
    // Truncated: inside the payload, and inside the header.
    expect(kindOf(() => decodeCheckpoint(good.subarray(0, good.length - 1)))).toBe('truncated');
    expect(kindOf(() => decodeCheckpoint(good.subarray(0, 40)))).toBe('truncated');
    // Other version.
    const v2 = good.slice();
    new DataView(v2.buffer).setUint32(8, CHECKPOINT_VERSION + 1, true);
    expect(() => decodeCheckpoint(v2)).toThrow(`format version ${CHECKPOINT_VERSION + 1}`);
    // One flipped payload bit.
    const flipped = good.slice();
    flipped[flipped.length - 3] ^= 0x10;
    expect(kindOf(() => decodeCheckpoint(flipped))).toBe('corrupt');
    // A damaged header.
    const hdr = good.slice();
    hdr[17] = 0xff;
    expect(kindOf(() => decodeCheckpoint(hdr))).toBe('corrupt');
  });

  it('a crafted header (issue 16): a negative payload length, a table entry nested too deep to print, a missing checksum', () => {
    const empty = new Uint8Array(0);
    const file = (header: unknown) => packContainer(CHECKPOINT_MAGIC, CHECKPOINT_VERSION, header, empty);
    // An empty payload's checksum matched, so this read as a run with an empty description.
    expect(
      kindOf(() => decodeCheckpoint(file({ meta: {}, table: [], payloadBytes: -4, checksum: checksumHex(empty) }))),
    ).toBe('corrupt');
    expect(kindOf(() => decodeCheckpoint(file({ meta: {}, table: [], payloadBytes: 0 })))).toBe('corrupt');
    // JSON.parse reads 100,000 levels; JSON.stringify overflowed the stack naming the entry (a RangeError, not a CheckpointError).
    const json = new TextEncoder().encode(
      `{"meta":{},"table":[${'['.repeat(100_000)}${']'.repeat(100_000)}],"payloadBytes":0,"checksum":"${checksumHex(empty)}"}`,
    );
    const deep = new Uint8Array(16 + json.length + 4);
    deep.set(new TextEncoder().encode(CHECKPOINT_MAGIC));
    new DataView(deep.buffer).setUint32(8, CHECKPOINT_VERSION, true);
    new DataView(deep.buffer).setUint32(12, json.length, true);
    deep.set(json, 16);
    const e = (() => {
      try {
        decodeCheckpoint(deep);
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(CheckpointError);
    expect((e as CheckpointError).message).toBe('The run file is damaged: tensor entry number 1 is invalid.');
    const long = file({
      meta: {},
      table: [{ name: 'n'.repeat(100_000), dtype: 'int64', shape: [1], offset: 0 }],
      payloadBytes: 0,
      checksum: checksumHex(empty),
    });
    expect(() => decodeCheckpoint(long)).toThrow(/tensor entry "n{60}… \(100000 characters\)" is invalid/);
  });

  it('refuses to encode a tensor whose data does not fill its shape', () => {
    const ck = sample();
    ck.tensors[0] = { ...ck.tensors[0], shape: [2, 2] };
    expect(() => encodeCheckpoint(ck)).toThrow('6 values for shape [2,2]');
  });
});
