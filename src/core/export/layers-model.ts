/**
 * The trained encoder as a TensorFlow.js LayersModel (model.json + weights.bin)
 * that plain `tf.loadLayersModel` loads in any tfjs app and that gives the
 * same embeddings as `Encoder.embed` (issue "Evaluation, checkpoints, export").
 *
 * Why only built-in layers: a model that needs custom classes can only be
 * loaded by code that registers them first; this one needs nothing but
 * `@tensorflow/tfjs` (every layer below is also a standard Keras layer).
 *
 * The graph, for an input N×S×S×3 RGB in [0, 1] (S = `inputSize`):
 *
 * - pixel centring (x − 0.5)·4 of `Encoder.features`: a 1×1 DepthwiseConv2D
 *   with kernel 4 and bias −2 (tfjs has no built-in Rescaling layer that older
 *   loaders know, and folding it into the stem conv would be wrong at the
 *   border: 'same' zero padding pads the *centred* image with zeros).
 * - convs: Conv2D with padding 'same', no bias; tfjs-layers calls the same
 *   `tf.conv2d(x, w, s, 'same')` as `conv2dSame`, TF's asymmetric 'same'
 *   padding for stride 2 (`samePadBefore`) included, so no ZeroPadding2D.
 * - GroupNorm (Wu & He 2018), G = effectiveGroups(groups, C), which has no
 *   Keras layer: Reshape H×W×C → (H·W)×G×(C/G), LayerNormalization over axes
 *   [1, 3] (per sample and group, biased variance, ε = 1e-5 as `groupNorm`;
 *   without its own scale/centre, whose shape would be (H·W)×(C/G) rather than
 *   per channel), Reshape back to H×W×C, then the per-channel affine γ·x + β as
 *   a 1×1 DepthwiseConv2D whose kernel holds γ and bias holds β. A 5-D
 *   H×W×G×C/G grouping would need LayerNormalization on rank 5, which
 *   tfjs-layers does not implement (batchNormalization is rank 2–4 only).
 * - `norm: 'none'`: the learnt β is the conv's bias (Conv2D useBias).
 * - residual add (Add), ReLU (Activation), GlobalAveragePooling2D → features F.
 * - head: Dense(projHidden, relu), then the projection z (d = projDim).
 * - L2 normalisation: tfjs-layers has no UnitNormalization layer. It is built
 *   from LayerNormalization: the second Dense emits [z, −z] (2d units, kernel
 *   [W₂, −W₂], bias [b₂, −b₂]), whose mean is exactly 0 and whose variance is
 *   ‖z‖²/d, so LayerNormalization (no scale/centre, ε = 1e-12) gives
 *   √d·[z, −z]/‖z‖; a bias-free Dense with kernel [I/√d; 0] (2d×d) keeps the
 *   first half and undoes the √d: z/‖z‖, as `l2Normalize` (whose ε = 1e-12 is
 *   added to the norm; both keep a zero row at zero).
 *
 * Outputs: `[features N×F, embedding N×d]` (names "features", "embedding") by
 * default, so one model serves the kNN / linear-probe features and the
 * L2-normalised projector embedding; `{ features: false }` gives the
 * embedding alone. The input size is fixed because GroupNorm's reshapes need
 * static H and W.
 */
import * as tf from '@tensorflow/tfjs';
import { featureDim, type Encoder } from '../models/encoder';
import { effectiveGroups } from '../models/groupnorm';

/** The weights file name that model.json's weightsManifest refers to. */
export const WEIGHTS_FILE = 'weights.bin';

/** ε of GroupNorm, as in models/groupnorm.ts (torch.nn.GroupNorm's). */
const GN_EPS = 1e-5;
/** ε of the L2 normalisation's LayerNormalization, on ‖z‖²/d (l2Normalize adds 1e-12 to ‖z‖). */
const L2_EPS = 1e-12;

export interface LayersModelOptions {
  /** Also output the backbone features N×F (before the head) as the first output. Default true. */
  features?: boolean;
}

/**
 * A LayersModel of built-in layers computing `encoder.embed(x)` for x: N×S×S×3
 * in [0, 1], S = `inputSize`; outputs `[features N×F, embedding N×d]`
 * (or the embedding alone with `{ features: false }`). The encoder's current
 * weights are copied in: later training does not change the model. The caller
 * owns the model (`model.dispose()`).
 */
export function encoderToLayersModel(
  encoder: Encoder,
  inputSize: number,
  opts: LayersModelOptions = {},
): tf.LayersModel {
  const s = encoder.shape;
  const values = new Map(encoder.params.map((p) => [p.name, p.variable as tf.Tensor]));
  const param = (name: string): tf.Tensor => {
    const v = values.get(name);
    if (!v) throw new Error(`encoder has no parameter ${name}`);
    return v;
  };
  /** Weights to set once the model is built: each layer with a function making its tensors (run in a tidy). */
  const pending: Array<[tf.layers.Layer, () => tf.Tensor[]]> = [];
  const withWeights = <L extends tf.layers.Layer>(layer: L, make: () => tf.Tensor[]): L => {
    pending.push([layer, make]);
    return layer;
  };
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
    layer.apply(x) as tf.SymbolicTensor;
  const id = (name: string) => name.replace(/\./g, '_');

  /** Per-channel γ·x + β (C channels) as a 1×1 depthwise conv. */
  const affine = (x: tf.SymbolicTensor, name: string, gamma: () => tf.Tensor, beta: () => tf.Tensor) => {
    const c = x.shape[3] as number;
    const layer = tf.layers.depthwiseConv2d({
      name,
      kernelSize: 1,
      depthMultiplier: 1,
      useBias: true,
      depthwiseInitializer: 'zeros',
    });
    return apply(
      withWeights(layer, () => [tf.reshape(gamma(), [1, 1, c, 1]), tf.reshape(beta(), [c])]),
      x,
    );
  };

  /** conv (k×k, stride) followed by the encoder's norm (GroupNorm or bias) and an optional ReLU. */
  const convNorm = (x: tf.SymbolicTensor, conv: string, norm: string, stride: number, relu: boolean) => {
    const w = param(conv);
    const [k, , , co] = w.shape;
    const plain = s.norm === 'none';
    const layer = tf.layers.conv2d({
      name: id(conv),
      filters: co,
      kernelSize: k,
      strides: stride,
      padding: 'same',
      useBias: plain,
      kernelInitializer: 'zeros',
    });
    let y = apply(
      withWeights(layer, () => (plain ? [w, param(`${norm}.beta`)] : [w])),
      x,
    );
    if (!plain) {
      const [, h, wd, c] = y.shape as number[];
      const g = effectiveGroups(s.groups, c);
      const n = id(norm);
      y = apply(tf.layers.reshape({ name: `${n}_group`, targetShape: [h * wd, g, c / g] }), y);
      y = apply(
        tf.layers.layerNormalization({
          name: `${n}_standardise`,
          axis: [1, 3],
          center: false,
          scale: false,
          epsilon: GN_EPS,
        }),
        y,
      );
      y = apply(tf.layers.reshape({ name: `${n}_ungroup`, targetShape: [h, wd, c] }), y);
      y = affine(
        y,
        `${n}_affine`,
        () => param(`${norm}.gamma`),
        () => param(`${norm}.beta`),
      );
    }
    return relu ? apply(tf.layers.activation({ name: `${id(norm)}_relu`, activation: 'relu' }), y) : y;
  };

  const input = tf.input({ name: 'image', shape: [inputSize, inputSize, 3] });
  // (x − 0.5)·4 = 4x − 2, per channel.
  let h = affine(
    input,
    'centre_pixels',
    () => tf.fill([3], 4),
    () => tf.fill([3], -2),
  );
  h = convNorm(h, 'stem.conv', 'stem.norm', s.stemStride, true);
  const names = new Set(values.keys());
  for (let st = 0; st < s.stages; st++) {
    for (let b = 0; b < s.blocksPerStage; b++) {
      const p = `s${st}.b${b}`;
      const stride = st > 0 && b === 0 ? 2 : 1;
      let y = convNorm(h, `${p}.conv1`, `${p}.norm1`, stride, true);
      y = convNorm(y, `${p}.conv2`, `${p}.norm2`, 1, false);
      const shortcut = names.has(`${p}.short`) ? convNorm(h, `${p}.short`, `${p}.shortnorm`, stride, false) : h;
      h = apply(tf.layers.add({ name: `${p.replace('.', '_')}_add` }), [y, shortcut]);
      h = apply(tf.layers.activation({ name: `${p.replace('.', '_')}_relu`, activation: 'relu' }), h);
    }
  }
  const features = apply(tf.layers.globalAveragePooling2d({ name: 'features' }), h);
  const f = featureDim(s);
  if (features.shape[1] !== f) throw new Error(`feature width ${features.shape[1]} ≠ featureDim ${f}`);

  const d = s.projDim;
  const fc1 = tf.layers.dense({
    name: 'head_fc1',
    units: s.projHidden,
    activation: 'relu',
    kernelInitializer: 'zeros',
  });
  let z = apply(
    withWeights(fc1, () => [param('head.fc1.w'), param('head.fc1.b')]),
    features,
  );
  // [z, −z]: mean exactly 0, variance ‖z‖²/d (module comment).
  const fc2 = tf.layers.dense({ name: 'head_fc2_pm', units: 2 * d, kernelInitializer: 'zeros' });
  z = apply(
    withWeights(fc2, () => {
      const w = param('head.fc2.w');
      const bias = param('head.fc2.b');
      return [tf.concat([w, tf.neg(w)], 1), tf.concat([bias, tf.neg(bias)], 0)];
    }),
    z,
  );
  z = apply(
    tf.layers.layerNormalization({ name: 'l2_standardise', axis: -1, center: false, scale: false, epsilon: L2_EPS }),
    z,
  );
  const pick = tf.layers.dense({ name: 'embedding', units: d, useBias: false, kernelInitializer: 'zeros' });
  const embedding = apply(
    withWeights(pick, () => [tf.concat([tf.mul(tf.eye(d), 1 / Math.sqrt(d)), tf.zeros([d, d])], 0)]),
    z,
  );

  const withFeatures = opts.features ?? true;
  const model = tf.model({
    name: 'clim_encoder',
    inputs: input,
    outputs: withFeatures ? [features, embedding] : embedding,
  });
  // setWeights assigns into the layers' variables, which keep their own references: the tidy frees the temporaries.
  tf.tidy(() => {
    for (const [layer, make] of pending) layer.setWeights(make());
  });
  model.setUserDefinedMetadata({
    clim: {
      input: `N×${inputSize}×${inputSize}×3 RGB in [0, 1]`,
      outputs: withFeatures ? ['features', 'embedding'] : ['embedding'],
      featureDim: f,
      embeddingDim: d,
      embedding: 'L2-normalised projection (Encoder.embed)',
    },
  });
  return model;
}

/**
 * Serialises a LayersModel to the two files `tf.loadLayersModel` reads from a
 * folder or URL: model.json (topology + weightsManifest pointing at
 * `weights.bin`) and the weight bytes. Through `tf.io.withSaveHandler`, so the
 * browser (download) and Node (write files) do their own I/O.
 */
export async function saveLayersModelArtifacts(
  model: tf.LayersModel,
): Promise<{ modelJson: string; weights: Uint8Array }> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  const a = saved as tf.io.ModelArtifacts | null;
  if (!a || !a.modelTopology || !a.weightSpecs) throw new Error('model.save produced no topology or weights');
  const json: tf.io.ModelJSON = {
    modelTopology: a.modelTopology,
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy ?? null,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: a.weightSpecs }],
  };
  if (a.trainingConfig) json.trainingConfig = a.trainingConfig;
  if (a.userDefinedMetadata) json.userDefinedMetadata = a.userDefinedMetadata;
  const data = a.weightData;
  const buffer =
    data === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(Array.isArray(data) ? data : [data]);
  return { modelJson: JSON.stringify(json), weights: new Uint8Array(buffer) };
}

/**
 * An IOHandler that loads the two artefacts of `saveLayersModelArtifacts`
 * (e.g. files a user picked, or read from disk), for
 * `tf.loadLayersModel(artifactsIOHandler(json, bytes))`. Throws when the
 * manifest names a file other than `weights.bin`.
 */
export function artifactsIOHandler(modelJson: string, weights: Uint8Array): tf.io.IOHandler {
  return {
    load: async () =>
      tf.io.getModelArtifactsForJSON(JSON.parse(modelJson) as tf.io.ModelJSON, async (manifest) => {
        const paths = manifest.flatMap((g) => g.paths);
        if (paths.some((p) => p.replace(/^\.\//, '') !== WEIGHTS_FILE))
          throw new Error(`model.json refers to ${paths.join(', ')}, expected ${WEIGHTS_FILE}`);
        const bytes = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
        return [manifest.flatMap((g) => g.weights), bytes];
      }),
  };
}
