import { useDeferredValue, useEffect, useMemo, useState } from 'react';
import type { ClusterSnapshot, ProjectionSnapshot } from '../../core/api';
import { UMAP_MAX_POINTS, useClim, type ClimState } from '../store';
import { Thumb, thumbPixels } from '../Thumb';
import { ScatterMap } from '../ScatterMap';
import { useMountedCount } from '../defer';
import { groupStyle, type Shape } from '../scatter-geometry';
import { fixed, percent, seconds } from '../format';

/**
 * The clusters of the last k-means run over the memory bank (§2), issue 5:
 * a 2-D map of the bank (PCA, live; UMAP on demand) coloured by cluster or
 * label, each cluster's size, galleries of the members nearest and farthest
 * from its centre, and purity/NMI/ARI against the labels (§6). Click a point
 * or a gallery image to follow it as an anchor in the Positives view.
 */

type ColourBy = 'cluster' | 'label';

const pct = (v: number) => percent(v);

/**
 * Pixels of training image i from the image cache, else from the selection's
 * thumbnails. Deferred like the pane's data: a store update renders at once
 * (useSyncExternalStore cannot wait), and new thumbnails in that urgent pass
 * re-rendered every gallery image in the task of the worker's message.
 */
function usePixels(): (i: number) => Uint8Array | null {
  const images = useDeferredValue(useClim((s) => s.images));
  const thumbs = useDeferredValue(useClim((s) => s.thumbs));
  return (i: number) => images.pixels.get(i) ?? thumbPixels(thumbs, i);
}

/** A small marker of a group's colour and shape, for the legend. */
function Marker({ shape, colour }: { shape: Shape; colour: string }) {
  const paths: Record<Shape, React.ReactNode> = {
    circle: <circle cx="6" cy="6" r="4.5" />,
    square: <rect x="2" y="2" width="8" height="8" />,
    triangle: <polygon points="6,1.5 11,10 1,10" />,
    diamond: <polygon points="6,0.8 11,6 6,11.2 1,6" />,
    cross: <path d="M1 4.5h10v3H1zM4.5 1h3v10h-3z" />,
  };
  return (
    <svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" fill={colour} className="legend-marker">
      {paths[shape]}
    </svg>
  );
}

function Metrics({ clusters }: { clusters: ClusterSnapshot }) {
  if (clusters.purity === null || clusters.nmi === null || clusters.ari === null) {
    return (
      <p className="cluster-metrics" data-testid="cluster-metrics">
        Unlabelled data: no purity, NMI or ARI (they compare the clusters with labels).
      </p>
    );
  }
  return (
    <dl
      className="cluster-metrics"
      data-testid="cluster-metrics"
      title="Agreement of the clusters with the labels (labels are never used for training)"
    >
      <div>
        <dt>Purity</dt>
        <dd data-testid="cluster-purity">{pct(clusters.purity)}</dd>
      </div>
      <div>
        <dt>NMI</dt>
        <dd data-testid="cluster-nmi">{fixed(clusters.nmi, 3)}</dd>
      </div>
      <div>
        <dt>ARI</dt>
        <dd data-testid="cluster-ari">{fixed(clusters.ari, 3)}</dd>
      </div>
    </dl>
  );
}

function UmapControls() {
  const umap = useClim((s) => s.umap);
  const umapMap = useClim((s) => s.umapMap);
  const method = useClim((s) => s.mapMethod);
  const setMethod = useClim((s) => s.setMapMethod);
  const compute = useClim((s) => s.computeUmap);
  const cancel = useClim((s) => s.cancelUmap);
  const busy = umap.status === 'fetching' || umap.status === 'neighbours' || umap.status === 'layout';
  const phase =
    umap.status === 'fetching'
      ? 'Fetching bank rows…'
      : umap.status === 'neighbours'
        ? `Finding neighbours of ${umap.points.toLocaleString('en')} points…`
        : umap.status === 'layout'
          ? `Layout: epoch ${umap.epoch} of ${umap.epochs}`
          : null;
  return (
    <div className="map-controls">
      <fieldset>
        <legend>Map</legend>
        <label>
          <input
            type="radio"
            name="map-method"
            value="pca"
            checked={method === 'pca'}
            onChange={() => setMethod('pca')}
          />{' '}
          PCA (live)
        </label>
        <label>
          <input
            type="radio"
            name="map-method"
            value="umap"
            checked={method === 'umap'}
            disabled={!umapMap}
            onChange={() => setMethod('umap')}
          />{' '}
          UMAP
          {umapMap ? ` (step ${umapMap.step})` : ''}
        </label>
      </fieldset>
      {busy ? (
        <div className="umap-progress" data-testid="umap-progress">
          <label>
            {phase}{' '}
            <progress
              max={umap.epochs || undefined}
              value={umap.status === 'layout' ? umap.epoch : undefined}
              aria-label="UMAP progress"
            />
          </label>
          <button type="button" onClick={cancel}>
            Cancel UMAP
          </button>
        </div>
      ) : (
        <button
          type="button"
          onClick={compute}
          data-testid="compute-umap"
          title={`UMAP of up to ${UMAP_MAX_POINTS.toLocaleString('en')} bank embeddings (a seeded subset), in its own worker`}
        >
          {umapMap ? 'Recompute UMAP' : 'Compute UMAP'}
        </button>
      )}
      {umap.status === 'done' && umap.ms !== null && <span className="umap-done">UMAP took {seconds(umap.ms)}.</span>}
      {umap.status === 'error' && (
        <span className="umap-error" role="alert">
          UMAP failed: {umap.message}
        </span>
      )}
    </div>
  );
}

interface Hovered {
  point: number;
  x: number;
  y: number;
}

function MapView({
  map,
  clusters,
  colourBy,
}: {
  map: ProjectionSnapshot;
  clusters: ClusterSnapshot;
  colourBy: ColourBy;
}) {
  const classNames = useClim((s) => s.classNames);
  const requestImages = useClim((s) => s.requestImages);
  const pinAnchor = useClim((s) => s.pinAnchor);
  const setActiveTab = useClim((s) => s.setActiveTab);
  const pixelsOf = usePixels();
  const imageSize = useClim((s) => s.images.size || s.thumbs?.size || 0);
  const [hovered, setHovered] = useState<Hovered | null>(null);
  const n = map.index.length;

  // Cluster of each point from the latest snapshot (a UMAP map keeps the points it was computed on).
  const clusterOf = useMemo(() => {
    const a = clusters.assignments;
    // A plain loop: Int32Array.from with a callback was slow for 20k points on mount (docs/BENCHMARKS.md §M12).
    const out = new Int32Array(map.index.length);
    for (let k = 0; k < out.length; k++) {
      const i = map.index[k];
      out[k] = i < a.length ? a[i] : map.cluster[k];
    }
    return out;
  }, [map, clusters]);
  const groups = colourBy === 'label' && map.label ? map.label : clusterOf;
  const counts = useMemo(() => {
    // Dense counts (ids are small non-negative ints): a Map per point was slow at 20k (docs/BENCHMARKS.md §M12).
    let max = -1;
    for (let k = 0; k < groups.length; k++) if (groups[k] > max) max = groups[k];
    const c = new Int32Array(max + 1);
    let other = 0;
    for (let k = 0; k < groups.length; k++)
      if (groups[k] >= 0) c[groups[k]]++;
      else other++;
    const out: [number, number][] = [];
    if (other) out.push([-1, other]);
    c.forEach((v, g) => v && out.push([g, v]));
    return out;
  }, [groups]);

  const C = clusters.sizes.length;
  const summary =
    `${map.method === 'pca' ? 'PCA' : 'UMAP'} map of ${n.toLocaleString('en')} bank embeddings at step ${map.step}` +
    (map.explained ? `; the axes explain ${pct(map.explained[0])} and ${pct(map.explained[1])} of the variance` : '') +
    `. Coloured by ${colourBy}, ${counts.length} groups; ${C} clusters. ` +
    'Arrow keys move a cursor over the map, Enter opens the image under it in the Positives view. The size bars and galleries below list the same clusters.';

  const hoveredIndex = hovered ? map.index[hovered.point] : -1;
  const hoveredLabel = hovered && map.label ? map.label[hovered.point] : null;
  return (
    <div className="map-area">
      <p id="cluster-map-summary" className="explain" data-testid="cluster-map-summary">
        {summary}
      </p>
      <div className="map-frame">
        <ScatterMap
          xy={map.xy}
          groups={groups}
          label={`${map.method.toUpperCase()} map of the memory bank`}
          describedBy="cluster-map-summary"
          onHover={(p, x, y) => {
            setHovered(p === null ? null : { point: p, x, y });
            if (p !== null) requestImages([map.index[p]]);
          }}
          onPick={(p) => {
            pinAnchor(map.index[p]);
            setActiveTab('positives');
          }}
          data={{ 'data-points': n, 'data-clusters': C, 'data-method': map.method, 'data-colour-by': colourBy }}
        />
        {hovered && (
          <div
            className="map-tooltip"
            data-testid="map-tooltip"
            style={{ left: hovered.x + 12, top: hovered.y + 12 }}
            role="status"
          >
            <Thumb pixels={pixelsOf(hoveredIndex)} size={imageSize} scale={3} label={`image #${hoveredIndex}`} />
            <span>
              #{hoveredIndex}
              {hoveredLabel !== null ? ` · ${classNames[hoveredLabel] ?? `class ${hoveredLabel}`}` : ''}
              <br />
              cluster {clusterOf[hovered.point]}
            </span>
          </div>
        )}
      </div>
      <ul className="map-legend" aria-label={`Legend: ${colourBy}s`} data-testid="map-legend">
        {counts.slice(0, 40).map(([g, count]) => {
          const st = groupStyle(g);
          const name = colourBy === 'label' ? (classNames[g] ?? `class ${g}`) : `cluster ${g}`;
          return (
            <li key={g}>
              <Marker shape={st.shape} colour={st.colour} /> {name}{' '}
              <span className="legend-count">({count.toLocaleString('en')})</span>
            </li>
          );
        })}
        {counts.length > 40 && <li>… {counts.length - 40} more (colours and shapes repeat after 40)</li>}
      </ul>
    </div>
  );
}

function Gallery({ clusters, c }: { clusters: ClusterSnapshot; c: number }) {
  const pixelsOf = usePixels();
  const size = useClim((s) => s.images.size || s.thumbs?.size || 0);
  const pinAnchor = useClim((s) => s.pinAnchor);
  const setActiveTab = useClim((s) => s.setActiveTab);
  const g = clusters.gallerySize;
  const row = (arr: Int32Array, title: string, kind: string) => (
    <div className="gallery-row" data-testid={`gallery-${kind}`}>
      <span className="gallery-title">{title}</span>
      <ul>
        {Array.from(arr.subarray(c * g, (c + 1) * g))
          .filter((i) => i >= 0)
          .map((i) => (
            <li key={i}>
              <button
                type="button"
                className="thumb-button"
                onClick={() => {
                  pinAnchor(i);
                  setActiveTab('positives');
                }}
                title={`Show image #${i} as an anchor`}
              >
                <Thumb
                  pixels={pixelsOf(i)}
                  size={size}
                  scale={1.5}
                  label={`image #${i}, ${kind} the centre of cluster ${c}`}
                />
              </button>
            </li>
          ))}
      </ul>
    </div>
  );
  return (
    <div className="cluster-gallery" id={`gallery-${c}`}>
      {row(clusters.galleryNear, 'Nearest the centre', 'nearest')}
      {row(clusters.galleryFar, 'Farthest from the centre', 'farthest')}
    </div>
  );
}

function SizeBars({ clusters }: { clusters: ClusterSnapshot }) {
  const thumbs = useDeferredValue(useClim((s) => s.thumbs));
  const pinAnchor = useClim((s) => s.pinAnchor);
  const setActiveTab = useClim((s) => s.setActiveTab);
  const requestImages = useClim((s) => s.requestImages);
  const [open, setOpen] = useState<ReadonlySet<number>>(() => new Set([0]));
  const total = clusters.assignments.length;
  const max = Math.max(1, ...clusters.sizes);
  const g = clusters.gallerySize;
  // Fetch the open galleries' images (cached: only new ones go to the worker).
  useEffect(() => {
    const want: number[] = [];
    for (const c of open) {
      for (const arr of [clusters.galleryNear, clusters.galleryFar])
        for (const i of arr.subarray(c * g, (c + 1) * g)) if (i >= 0) want.push(i);
    }
    requestImages(want);
  }, [open, clusters, g, requestImages]);
  const toggle = (c: number) => {
    const next = new Set(open);
    if (next.has(c)) next.delete(c);
    else next.add(c);
    setOpen(next);
  };
  return (
    <ol className="cluster-bars" data-testid="cluster-bars" aria-label="Cluster sizes and galleries">
      {Array.from(clusters.sizes, (size, c) => {
        const near = clusters.nearest[c];
        const st = groupStyle(c);
        return (
          <li key={c} data-testid="cluster-row">
            <div className="cluster-line">
              <span className="cluster-id">
                <Marker shape={st.shape} colour={st.colour} /> #{c}
              </span>
              {near >= 0 ? (
                <button
                  type="button"
                  className="thumb-button"
                  onClick={() => {
                    pinAnchor(near);
                    setActiveTab('positives');
                  }}
                  title={`Show image #${near} as an anchor`}
                >
                  <Thumb
                    pixels={thumbPixels(thumbs, near)}
                    size={thumbs?.size ?? 0}
                    scale={1.5}
                    label={`image nearest the centre of cluster ${c}`}
                  />
                </button>
              ) : (
                <span className="thumb missing" />
              )}
              <span className="bar" style={{ width: `${(100 * size) / max}%` }} />
              <span className="cluster-size">
                {size.toLocaleString('en')} ({fixed((100 * size) / Math.max(1, total), 1)}%)
              </span>
              <button
                type="button"
                className="gallery-toggle"
                aria-expanded={open.has(c)}
                aria-controls={`gallery-${c}`}
                onClick={() => toggle(c)}
                disabled={size === 0}
              >
                {open.has(c) ? 'Hide' : 'Show'} gallery<span className="visually-hidden"> of cluster {c}</span>
              </button>
            </div>
            {open.has(c) && size > 0 && <Gallery clusters={clusters} c={c} />}
          </li>
        );
      })}
    </ol>
  );
}

const pickMap = (s: ClimState) => (s.mapMethod === 'umap' && s.umapMap ? s.umapMap : s.projection);

export function ClustersPane() {
  // Deferred (null on mount): the tab switch commits a light shell; new snapshots re-render the view in an interruptible render.
  const liveClusters = useClim((s) => s.clusters);
  const clusters = useDeferredValue(liveClusters, null);
  const map = useDeferredValue(useClim(pickMap), null);
  const hasLabels = useClim((s) => s.projection?.label != null);
  const [colourBy, setColourBy] = useState<ColourBy>('cluster');
  // The map and the cluster list mount a frame apart, after the rest of the view, each in a task of its own (see useMountedCount).
  const mounted = useMountedCount(clusters ? 3 : 0);
  const mapReady = mounted >= 2;
  if (!clusters)
    return liveClusters ? (
      <div className="clusters-pane" />
    ) : (
      <p className="chart-empty">Clusters appear with the first snapshot (step 25).</p>
    );
  const total = clusters.assignments.length;
  const empty = clusters.sizes.filter((s) => s === 0).length;
  const by: ColourBy = colourBy === 'label' && hasLabels ? 'label' : 'cluster';
  return (
    <div className="clusters-pane" data-testid="clusters-pane">
      <p className="explain">
        {clusters.sizes.length} clusters over {total.toLocaleString('en')} bank embeddings at step {clusters.step}
        {empty ? ` (${empty} empty)` : ''}. Spherical k-means re-runs every few steps as the encoder learns.
      </p>
      <Metrics clusters={clusters} />
      <div className="map-controls">
        <fieldset>
          <legend>Colour by</legend>
          <label>
            <input
              type="radio"
              name="colour-by"
              value="cluster"
              checked={by === 'cluster'}
              onChange={() => setColourBy('cluster')}
            />{' '}
            Cluster
          </label>
          <label>
            <input
              type="radio"
              name="colour-by"
              value="label"
              checked={by === 'label'}
              disabled={!hasLabels}
              onChange={() => setColourBy('label')}
            />{' '}
            Label
          </label>
        </fieldset>
      </div>
      <UmapControls />
      {map && mapReady ? (
        <MapView map={map} clusters={clusters} colourBy={by} />
      ) : map ? (
        <div className="map-pending" style={{ height: 420 }} />
      ) : (
        <p className="chart-empty">The map appears with the next snapshot.</p>
      )}
      <h3 className="cluster-heading">Clusters: size, centre image, gallery</h3>
      {mounted >= 3 && <SizeBars clusters={clusters} />}
    </div>
  );
}
