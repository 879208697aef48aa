import { useClim } from '../store';
import { Thumb, thumbPixels } from '../Thumb';

/**
 * The clusters of the last k-means run over the memory bank (§2): each
 * cluster's size and the training image nearest its centre. Click a centre
 * image to follow it as an anchor in the Positives view.
 */
export function ClustersPane() {
  const clusters = useClim((s) => s.clusters);
  const thumbs = useClim((s) => s.thumbs);
  const pinAnchor = useClim((s) => s.pinAnchor);
  if (!clusters) return <p className="chart-empty">Clusters appear with the first snapshot (step 25).</p>;
  const total = clusters.assignments.length;
  const max = Math.max(1, ...clusters.sizes);
  const empty = clusters.sizes.filter((s) => s === 0).length;
  return (
    <div className="clusters-pane" data-testid="clusters-pane">
      <p className="explain">
        {clusters.sizes.length} clusters over {total.toLocaleString('en')} bank embeddings at step {clusters.step}
        {empty ? ` (${empty} empty)` : ''}. Spherical k-means re-runs every few steps as the encoder learns; each row shows the cluster’s size and the
        image nearest its centre.
      </p>
      <ol className="cluster-bars" data-testid="cluster-bars">
        {Array.from(clusters.sizes, (size, c) => {
          const near = clusters.nearest[c];
          return (
            <li key={c} data-testid="cluster-row">
              <span className="cluster-id">#{c}</span>
              {near >= 0 ? (
                <button type="button" className="thumb-button" onClick={() => pinAnchor(near)} title={`Show image #${near} as an anchor`}>
                  <Thumb pixels={thumbPixels(thumbs, near)} size={thumbs?.size ?? 0} scale={1.5} label={`image nearest the centre of cluster ${c}`} />
                </button>
              ) : (
                <span className="thumb missing" />
              )}
              <span className="bar" style={{ width: `${(100 * size) / max}%` }} />
              <span className="cluster-size">
                {size.toLocaleString('en')} ({((100 * size) / Math.max(1, total)).toFixed(1)}%)
              </span>
            </li>
          );
        })}
      </ol>
    </div>
  );
}
