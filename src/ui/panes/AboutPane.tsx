import { useClim } from '../store';
import { fixed } from '../format';

/** What CLIM does, in plain words, with the loss written out for the current run's numbers. */
export function AboutPane() {
  const temperature = useClim((s) => s.config.temperature);
  const k = useClim((s) => s.config.knnK);
  const clusters = useClim((s) => s.config.clusters);
  const lambda = useClim((s) => (s.metrics.length ? s.metrics[s.metrics.length - 1].lambdaMean : null));
  const lam = typeof lambda === 'number' && Number.isFinite(lambda) ? fixed(lambda, 2) : 'λ';
  return (
    <article className="about-pane" data-testid="about-pane">
      <h2>What CLIM does</h2>
      <p>
        Self-supervised learning teaches an encoder to map two views of the same picture close together and other
        pictures far apart, without labels. Plain instance discrimination (MoCo v2) treats every other picture as a
        “negative”, even a picture of the same kind of thing. CLIM (Center-wise Local Image Mixture, Li et al., BMVC
        2021) also pulls each image towards a few <em>similar</em> images, chosen carefully so that the encoder learns
        what the similar images have in common.
      </p>
      <h3>Choosing the positives</h3>
      <ol>
        <li>
          Every training image has an embedding in a <strong>memory bank</strong>; k-means splits the bank into{' '}
          {clusters} clusters.
        </li>
        <li>
          For an anchor image, take its <strong>k = {k} nearest neighbours</strong> in the bank.
        </li>
        <li>
          Keep a neighbour only if it is in the anchor’s cluster{' '}
          <strong>and closer to the cluster’s centre than the anchor is</strong>. This moves the anchor towards the
          centre of its group and drops neighbours that lie across a cluster border — where false positives are most
          likely.
        </li>
        <li>Draw one kept neighbour as the positive (none kept: the anchor is its own positive).</li>
      </ol>
      <h3>The four selection modes you can compare</h3>
      <dl>
        <dt>none (MoCo v2)</dt>
        <dd>every image is only its own positive.</dd>
        <dt>knn</dt>
        <dd>any of the k nearest neighbours (no cluster test).</dd>
        <dt>cluster</dt>
        <dd>any image of the anchor’s cluster, however far away.</dd>
        <dt>center-wise (CLIM)</dt>
        <dd>the rule above: nearest neighbours, same cluster, closer to the centre.</dd>
      </dl>
      <h3>Mixing and the loss</h3>
      <p>
        The anchor and its positive are mixed into one image (CutMix pastes a box of one into the other; Mixup blends
        them) with weight λ, and the mixed view must match both keys in proportion:
      </p>
      <p className="formula" data-testid="about-formula">
        L = {lam} · L<sub>NCE</sub>(q, k<sub>anchor</sub>) + (1 − {lam}) · L<sub>NCE</sub>(q, k<sub>positive</sub>),
        with L<sub>NCE</sub>(q, k) = −log exp(q·k / {temperature}) / Σ exp(q·k′ / {temperature})
      </p>
      <p className="hint">
        λ shown is the last step’s batch mean; {temperature} is the temperature τ. The sum runs over the positive key
        and the queue of negatives. Views are taken at several resolutions and every pair of them contributes
        (multi-resolution).
      </p>
      <p>
        Paper:{' '}
        <a href="https://arxiv.org/abs/2011.02697" rel="noreferrer" target="_blank">
          Li et al., “Center-wise Local Image Mixture for Contrastive Representation Learning”, BMVC 2021
          (arXiv:2011.02697)
        </a>
        .
      </p>
    </article>
  );
}
