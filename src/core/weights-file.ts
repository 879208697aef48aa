/**
 * A trained encoder as a weights-only file (issue 15, "A trained starting
 * point"): what `public/models/` ships, what `--save-weights` writes and
 * `--init-weights` and the page's "Start from the trained encoder" read, and
 * the format a model trained elsewhere (PyTorch, issue 18) is imported
 * through. Plain data only (no tfjs).
 *
 * Layout (little-endian), version 1:
 *   0   8 bytes  MAGIC "CLIMWTS\n"
 *   8   u32      format version (WEIGHTS_VERSION)
 *   12  u32      header length H (bytes of UTF-8 JSON)
 *   16  H bytes  header JSON: { architecture, info, table, payloadBytes, checksum }
 *   …   0–3 zero bytes so the payload starts 4-aligned
 *   …   payload: each parameter's float32 values, row-major, in table order
 * `architecture` holds the ClimConfig fields that shape the encoder (width,
 * stemStride, stages, blocksPerStage, norm, groups, projHidden, projDim);
 * `table` lists every parameter by the engine's name (e.g. "stem.conv",
 * "s1.b0.conv2", "head.fc2.w", see models/encoder.ts) with its shape (conv
 * kernels kh×kw×in×out, dense weights in×out) and byte offset; `checksum` is
 * FNV-1a 32 of the payload (hex). One encoder: the query encoder f_q (what
 * MoCo releases and what the kNN monitor and linear probe evaluate); a run
 * started from the file loads it into both of its encoders.
 */
import type { ClimConfig } from './config';
import { checksumHex, packContainer, packPayload, payloadStart } from './checkpoint';

export const WEIGHTS_MAGIC = 'CLIMWTS\n';
/** Bump when a field's meaning or the layout changes; readers refuse other versions by name. */
export const WEIGHTS_VERSION = 1;
export const WEIGHTS_FILE_EXTENSION = '.climweights';

/** The config fields that decide every parameter's name and shape. */
export const ARCHITECTURE_FIELDS = [
  'width',
  'stemStride',
  'stages',
  'blocksPerStage',
  'norm',
  'groups',
  'projHidden',
  'projDim',
] as const;
export type Architecture = Pick<ClimConfig, (typeof ARCHITECTURE_FIELDS)[number]>;

export function architectureOf(c: Architecture): Architecture {
  return Object.fromEntries(ARCHITECTURE_FIELDS.map((k) => [k, c[k]])) as Architecture;
}

/** Where the weights came from; informative only, never needed to load them. */
export interface WeightsInfo {
  savedAt: string;
  /** Data set id and sizes the encoder was trained on. */
  trainedOn?: { id: string; train: number; test: number };
  steps?: number;
  /** The training config (all fields), for a reader who wants to continue with the same settings. */
  config?: ClimConfig;
  /** Held-out accuracies at save time, as the trainer measured them. */
  knnTop1?: number | null;
  linearTop1?: number | null;
  note?: string;
}

export interface WeightRecord {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface WeightsFile {
  architecture: Architecture;
  info: WeightsInfo;
  params: WeightRecord[];
}

export class WeightsFileError extends Error {
  constructor(
    readonly kind: 'not-a-weights-file' | 'truncated' | 'corrupt' | 'version' | 'mismatch',
    message: string,
  ) {
    super(message);
    this.name = 'WeightsFileError';
  }
}

interface TableEntry {
  name: string;
  shape: number[];
  offset: number;
}

interface Header {
  architecture: Architecture;
  info: WeightsInfo;
  table: TableEntry[];
  payloadBytes: number;
  checksum: string;
}

/** TextDecoder exists in browsers, workers and Node alike; the engine's tsconfig has no DOM lib to declare it. */
const codecs = globalThis as unknown as {
  TextDecoder: new (label?: string, opts?: { fatal?: boolean }) => { decode(b: Uint8Array): string };
};
const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function encodeWeights(w: WeightsFile): Uint8Array {
  const { payload, offsets } = packPayload(w.params, 'weights');
  const table: TableEntry[] = w.params.map((p, i) => ({ name: p.name, shape: [...p.shape], offset: offsets[i] }));
  const header: Header = {
    architecture: architectureOf(w.architecture),
    info: w.info,
    table,
    payloadBytes: payload.length,
    checksum: checksumHex(payload),
  };
  return packContainer(WEIGHTS_MAGIC, WEIGHTS_VERSION, header, payload);
}

const isInt = (v: unknown, lo: number) => typeof v === 'number' && Number.isInteger(v) && v >= lo;

/**
 * Parses and checks a weights file: signature, version, header, table,
 * length and checksum, and that the architecture names every field. Whether
 * the parameters fit a model is checkAgainst's job.
 */
export function decodeWeights(input: Uint8Array): WeightsFile {
  // A plain view: Node's Buffer.slice shares memory, and the records below need copies of their own.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const magic = bytes.length >= 8 ? new codecs.TextDecoder().decode(bytes.subarray(0, 8)) : '';
  if (bytes.length < 16 || magic !== WEIGHTS_MAGIC) {
    throw new WeightsFileError(
      'not-a-weights-file',
      `This is not a CLIM Playground weights file (${WEIGHTS_FILE_EXTENSION}): it does not start with the weights signature.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== WEIGHTS_VERSION)
    throw new WeightsFileError(
      'version',
      `This weights file has format version ${version}; this version of the app reads version ${WEIGHTS_VERSION} only.`,
    );
  const h = view.getUint32(12, true);
  if (16 + h > bytes.length)
    throw new WeightsFileError(
      'truncated',
      `The weights file is truncated: its header alone needs ${16 + h} bytes and the file has ${bytes.length}.`,
    );
  let header: Header;
  try {
    header = JSON.parse(new codecs.TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + h))) as Header;
  } catch {
    throw new WeightsFileError('corrupt', 'The weights file is damaged: its header is not readable.');
  }
  if (
    !header ||
    typeof header !== 'object' ||
    !header.architecture ||
    typeof header.architecture !== 'object' ||
    !Array.isArray(header.table) ||
    !isInt(header.payloadBytes, 0) ||
    typeof header.checksum !== 'string'
  ) {
    throw new WeightsFileError(
      'corrupt',
      'The weights file is damaged: its header lacks the architecture, the parameter table or the checksum.',
    );
  }
  const missing = ARCHITECTURE_FIELDS.filter((k) => !(k in header.architecture));
  if (missing.length)
    throw new WeightsFileError('corrupt', `The weights file's architecture lacks ${missing.join(', ')}.`);
  const payloadAt = payloadStart(h);
  if (bytes.length - payloadAt < header.payloadBytes) {
    throw new WeightsFileError(
      'truncated',
      `The weights file is truncated: ${bytes.length} bytes of the ${payloadAt + header.payloadBytes} it was written with.`,
    );
  }
  const payload = bytes.subarray(payloadAt, payloadAt + header.payloadBytes);
  if (checksumHex(payload) !== header.checksum)
    throw new WeightsFileError(
      'corrupt',
      'The weights file is damaged: its contents do not match the checksum written with them.',
    );
  const names = new Set<string>();
  const params = header.table.map((e) => {
    const ok =
      e &&
      typeof e.name === 'string' &&
      Array.isArray(e.shape) &&
      e.shape.every((d) => isInt(d, 1)) &&
      isInt(e.offset, 0) &&
      e.offset % 4 === 0;
    if (!ok || names.has(e.name) || e.offset + elements(e.shape) * 4 > payload.length) {
      throw new WeightsFileError(
        'corrupt',
        `The weights file is damaged: parameter entry ${JSON.stringify(e?.name ?? e)} is invalid.`,
      );
    }
    names.add(e.name);
    // A copy: the records outlive the file's buffer and must be 4-aligned.
    return {
      name: e.name,
      shape: e.shape,
      data: new Float32Array(payload.slice(e.offset, e.offset + elements(e.shape) * 4).buffer),
    };
  });
  return { architecture: architectureOf(header.architecture), info: header.info ?? { savedAt: '' }, params };
}

/**
 * Why `file` cannot load into an encoder of architecture `arch` with
 * parameters `want` (name and shape, the encoder's own list), or null when
 * it can: the first architecture field that differs, else the first missing,
 * extra or reshaped parameter. Words a user can act on.
 */
export function weightsMismatch(
  file: WeightsFile,
  arch: Architecture,
  want: ReadonlyArray<{ name: string; shape: readonly number[] }>,
): string | null {
  const diff = ARCHITECTURE_FIELDS.filter((k) => file.architecture[k] !== arch[k]);
  if (diff.length) {
    return `The weights are for another encoder: ${diff.map((k) => `${k} ${String(file.architecture[k])} (this run: ${String(arch[k])})`).join(', ')}. Set these fields to the file's values, or pick weights trained with this run's encoder.`;
  }
  const have = new Map(file.params.map((p) => [p.name, p]));
  for (const w of want) {
    const p = have.get(w.name);
    if (!p) return `The weights file has no parameter "${w.name}".`;
    if (p.shape.length !== w.shape.length || p.shape.some((d, i) => d !== w.shape[i]))
      return `Parameter "${w.name}" is [${p.shape.join('×')}] in the file, the encoder needs [${w.shape.join('×')}].`;
  }
  const extra = file.params.filter((p) => !want.some((w) => w.name === p.name));
  if (extra.length)
    return `The weights file has parameters this encoder does not: ${extra
      .slice(0, 3)
      .map((p) => `"${p.name}"`)
      .join(', ')}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''}.`;
  for (const p of file.params) {
    for (let i = 0; i < p.data.length; i++)
      if (!Number.isFinite(p.data[i]))
        return `Parameter "${p.name}" holds a non-finite value (${p.data[i]}) at position ${i}.`;
  }
  return null;
}
