/**
 * A run's whole state as one byte string (issue 6, "Checkpoints"): what the
 * IndexedDB autosave stores, what "Export run" downloads and what "Import
 * run" reads. Plain data only (no tfjs), so it can cross the worker boundary.
 *
 * Layout (little-endian):
 *   0   8 bytes  MAGIC "CLIMRUN\n"
 *   8   u32      format version (CHECKPOINT_VERSION)
 *   12  u32      header length H (bytes of UTF-8 JSON)
 *   16  H bytes  header JSON: CheckpointMeta + the tensor table
 *   …   0–3 zero bytes so the payload starts 4-aligned
 *   …   payload: every tensor's little-endian bytes, in table order
 * The header records the payload length and an FNV-1a checksum of it, so a
 * truncated or damaged file is told apart from a wrong one before any of it
 * is used. Chosen over zip/JSON: one copy of the arrays, no base64, no
 * compression pass over ~20 MB of floats that barely compress.
 */
import { truncateText, upgradeSavedConfig, type ClimConfig } from './config';
import type { RngState } from './rng';

export const CHECKPOINT_MAGIC = 'CLIMRUN\n';
/** Bump when the meaning of a field or tensor changes; readers refuse other versions with a clear message. */
export const CHECKPOINT_VERSION = 1;
/** The extension "Export run" gives its file. */
export const RUN_FILE_EXTENSION = '.climrun';

export type CheckpointDtype = 'float32' | 'int32';

export interface TensorRecord {
  /** Stable name, e.g. "query/s0.b0.conv1", "bank", "queue0/keys", "sampler/order". */
  name: string;
  dtype: CheckpointDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** How the data set of a run is found again (the trainer checks the fingerprint; the app decides how to load it). */
export interface DatasetRef {
  id: string;
  /** datasetFingerprint(): hash of every image byte and label of both splits. */
  fingerprint: string;
  train: number;
  test: number;
  size: number;
  /** App-level recipe (e.g. a built-in name with its subset), opaque to the engine. */
  source?: unknown;
}

export interface CheckpointMeta {
  version: number;
  /** ISO time of the save. */
  savedAt: string;
  step: number;
  config: ClimConfig;
  dataset: DatasetRef;
  /** The training stream and the epoch sampler's own stream (train.ts). */
  rng: RngState;
  samplerRng: RngState;
  samplerPos: number;
  samplerEpoch: number;
  queuePointers: number[];
  /** Cluster sizes of the last k-means run (null before the first). */
  clusterSizes: number[] | null;
  /** AdamW's step counter (bias correction); 0 for SGD. */
  optimizerSteps: number;
  /** What the app keeps with a run (metrics history, UI state); the engine never reads it. */
  app?: unknown;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  tensors: TensorRecord[];
}

/** A run file or stored checkpoint that cannot be used; `kind` lets the UI word it and tests tell the cases apart. */
export class CheckpointError extends Error {
  constructor(
    /** `invalid`: the container is sound but its description is not (run-file-check.ts). */
    readonly kind: 'not-a-run-file' | 'truncated' | 'corrupt' | 'version' | 'mismatch' | 'dataset' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointError';
  }
}

interface TableEntry {
  name: string;
  dtype: CheckpointDtype;
  shape: number[];
  /** Byte offset inside the payload. */
  offset: number;
}

interface Header {
  meta: CheckpointMeta;
  table: TableEntry[];
  payloadBytes: number;
  /** FNV-1a 32 of the payload, hex. */
  checksum: string;
}

/** TextEncoder/TextDecoder exist in browsers, workers and Node alike; the engine's tsconfig has no DOM lib to declare them. */
interface TextCodecs {
  TextEncoder: new () => { encode(s: string): Uint8Array };
  TextDecoder: new (label?: string, opts?: { fatal?: boolean }) => { decode(b: Uint8Array): string };
}
const codecs = globalThis as unknown as TextCodecs;
const utf8 = (s: string) => new codecs.TextEncoder().encode(s);

const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * FNV-1a, 32 bits, over bytes: a checksum against truncation and bit rot,
 * not an adversary. Reads 4 bytes per loop turn where aligned data allows
 * it would change the value, so it stays byte-wise (its cost: docs/BENCHMARKS.md §M10).
 */
export function fnv1a(bytes: Uint8Array, seed: number = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const hex = (v: number) => v.toString(16).padStart(8, '0');

/**
 * The records' 4-byte values laid end to end (the payload of a run file and
 * of a weights file) and each one's byte offset in it; `what` names a record
 * whose value count does not fit its shape.
 */
export function packPayload(
  records: ReadonlyArray<{ name: string; shape: number[]; data: Float32Array | Int32Array }>,
  what: string,
): { payload: Uint8Array; offsets: number[] } {
  const offsets: number[] = [];
  let offset = 0;
  for (const t of records) {
    if (t.data.length !== elements(t.shape))
      throw new Error(`${what} ${t.name}: ${t.data.length} values for shape [${t.shape}]`);
    offsets.push(offset);
    offset += t.data.length * 4;
  }
  const payload = new Uint8Array(offset);
  records.forEach((t, i) =>
    payload.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), offsets[i]),
  );
  return { payload, offsets };
}

/** Where the payload starts after a header of `headerLength` bytes: 4-aligned. */
export function payloadStart(headerLength: number): number {
  const start = 16 + headerLength;
  return start + ((4 - (start % 4)) % 4);
}

/**
 * The container both file kinds share (layout at the top of this file):
 * an 8-byte signature, the format version, the header's length, the header
 * as UTF-8 JSON, zero padding to 4 bytes, the payload.
 */
export function packContainer(magic: string, version: number, header: unknown, payload: Uint8Array): Uint8Array {
  const json = utf8(JSON.stringify(header));
  const payloadAt = payloadStart(json.length);
  const out = new Uint8Array(payloadAt + payload.length);
  out.set(utf8(magic), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, version, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(payload, payloadAt);
  return out;
}

/** FNV-1a of a payload as the header records it (8 hex digits). */
export const checksumHex = (payload: Uint8Array): string => hex(fnv1a(payload));

/** The run as one byte string (see the layout above). */
export function encodeCheckpoint(ck: Checkpoint): Uint8Array {
  const { payload, offsets } = packPayload(ck.tensors, 'checkpoint tensor');
  const table: TableEntry[] = ck.tensors.map((t, i) => ({
    name: t.name,
    dtype: t.dtype,
    shape: t.shape,
    offset: offsets[i],
  }));
  const header: Header = { meta: ck.meta, table, payloadBytes: payload.length, checksum: checksumHex(payload) };
  return packContainer(CHECKPOINT_MAGIC, CHECKPOINT_VERSION, header, payload);
}

/** Reads just the header (cheap: no payload copy, no checksum), for listing stored runs. */
export function peekCheckpointMeta(bytes: Uint8Array): CheckpointMeta {
  return readHeader(bytes).header.meta;
}

function readHeader(bytes: Uint8Array): { header: Header; payloadAt: number } {
  const magic = new codecs.TextDecoder().decode(bytes.subarray(0, 8));
  if (bytes.length < 16 || magic !== CHECKPOINT_MAGIC) {
    throw new CheckpointError(
      'not-a-run-file',
      'This is not a CLIM Playground run file (it does not start with the run-file signature).',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(
      'version',
      `This run file has format version ${version}; this version of the app reads version ${CHECKPOINT_VERSION} only.`,
    );
  }
  const h = view.getUint32(12, true);
  if (16 + h > bytes.length) {
    throw new CheckpointError(
      'truncated',
      `The run file is truncated: its header alone needs ${16 + h} bytes and the file has ${bytes.length}.`,
    );
  }
  let header: Header;
  try {
    header = JSON.parse(new codecs.TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + h))) as Header;
  } catch {
    throw new CheckpointError('corrupt', 'The run file is damaged: its header is not readable.');
  }
  // The header is untrusted JSON: every field is checked before it is used to index or size anything.
  if (
    !header ||
    typeof header !== 'object' ||
    !header.meta ||
    !Array.isArray(header.table) ||
    !Number.isInteger(header.payloadBytes) ||
    header.payloadBytes < 0 ||
    typeof header.checksum !== 'string'
  ) {
    throw new CheckpointError(
      'corrupt',
      'The run file is damaged: its header lacks the run description or the tensor table.',
    );
  }
  return { header, payloadAt: payloadStart(h) };
}

/**
 * Parses and checks a run file: signature, version, length, checksum and the
 * table's own consistency. Shapes against a model are the trainer's check
 * (Trainer.restore); this only guarantees the bytes are what was written.
 * The checksum does not cover the description (meta), so its fields are
 * untrusted here: readRunFile (run-file-check.ts) checks them, and every
 * reader of a run file goes through that.
 */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const { header, payloadAt } = readHeader(bytes);
  const have = bytes.length - payloadAt;
  if (have < header.payloadBytes) {
    throw new CheckpointError(
      'truncated',
      `The run file is truncated: ${bytes.length} bytes of the ${payloadAt + header.payloadBytes} it was written with.`,
    );
  }
  const payload = bytes.subarray(payloadAt, payloadAt + header.payloadBytes);
  if (hex(fnv1a(payload)) !== header.checksum) {
    throw new CheckpointError(
      'corrupt',
      'The run file is damaged: its contents do not match the checksum written with them.',
    );
  }
  const tensors: TensorRecord[] = header.table.map((e, i) => {
    const bad =
      !e ||
      typeof e !== 'object' ||
      typeof e.name !== 'string' ||
      (e.dtype !== 'float32' && e.dtype !== 'int32') ||
      !Array.isArray(e.shape) ||
      !e.shape.every((d) => Number.isInteger(d) && d >= 0);
    const n = bad ? 0 : elements(e.shape);
    if (bad || !Number.isInteger(e.offset) || e.offset < 0 || e.offset % 4 !== 0 || e.offset + n * 4 > payload.length) {
      // Named without walking into the entry: a crafted one may nest too deep for JSON.stringify.
      const what =
        e && typeof e === 'object' && typeof e.name === 'string'
          ? JSON.stringify(truncateText(e.name, 60))
          : `number ${i + 1}`;
      throw new CheckpointError('corrupt', `The run file is damaged: tensor entry ${what} is invalid.`);
    }
    // A copy: the records outlive the file's buffer and must be 4-aligned. Uint8Array's own slice, since
    // a Node Buffer's slice is a view (readFileSync's bytes would give every tensor the file's whole buffer).
    const raw = Uint8Array.prototype.slice.call(payload, e.offset, e.offset + n * 4).buffer;
    return {
      name: e.name,
      dtype: e.dtype,
      shape: e.shape,
      data: e.dtype === 'int32' ? new Int32Array(raw) : new Float32Array(raw),
    };
  });
  const meta = header.meta;
  // Runs saved before a config field existed carry on as they behaved then (config.ts).
  const config =
    meta && typeof meta.config === 'object' && meta.config !== null && !Array.isArray(meta.config)
      ? upgradeSavedConfig(meta.config)
      : meta?.config;
  return { meta: meta ? { ...meta, config } : meta, tensors };
}
