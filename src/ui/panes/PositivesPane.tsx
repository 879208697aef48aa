import { memo, useDeferredValue, useState } from 'react';
import { useMountedCount } from '../defer';
import type { AnchorSelection, NeighbourInfo, RejectReason } from '../../core/api';
import { useClim, type Thumbnails } from '../store';
import { Thumb, thumbPixels } from '../Thumb';
import { RuleComparisonCard } from './RuleComparisonCard';
import { fixed } from '../format';

/**
 * The teaching view (issue 5): for a few anchors of the last reported step,
 * the k nearest bank neighbours in order, each kept or rejected with the
 * reason, the positive actually drawn, the mixed view the query encoder saw,
 * and the cluster centre (as the training image nearest to it).
 */

const REASON_TEXT: Record<RejectReason, string> = {
  kept: 'kept',
  'different-cluster': 'rejected: different cluster',
  'farther-from-centre': 'rejected: farther from the centre than the anchor',
  'not-selected-by-mode': 'not used by this mode',
};

const MODE_RULE: Record<string, string> = {
  'center-wise':
    'keeps a neighbour when it is in the anchor’s cluster and closer to the cluster centre than the anchor is.',
  knn: 'keeps every one of the k nearest neighbours (no cluster test).',
  cluster: 'ignores the neighbours and draws any image of the anchor’s cluster.',
  none: 'uses no neighbours: every image is its own positive (MoCo v2).',
};

const fmt = (v: number) => fixed(v, 3);

function labelName(classNames: string[], label: number | null): string | null {
  if (label === null) return null;
  return classNames[label] ?? `class ${label}`;
}

const NeighbourCell = memo(function NeighbourCell({
  nb,
  anchor,
  thumbs,
  classNames,
  chosen,
  onPin,
}: {
  nb: NeighbourInfo;
  anchor: AnchorSelection;
  thumbs: Thumbnails | null;
  classNames: string[];
  chosen: boolean;
  onPin: (i: number) => void;
}) {
  const falsePositive = nb.kept && nb.label !== null && anchor.label !== null && nb.label !== anchor.label;
  const name = labelName(classNames, nb.label);
  const cls = [
    'neighbour',
    nb.kept ? 'kept' : 'rejected',
    chosen ? 'chosen' : '',
    falsePositive ? 'false-positive' : '',
  ].join(' ');
  return (
    <li className={cls} data-testid="neighbour" data-reason={nb.reason}>
      <button
        type="button"
        className="thumb-button"
        onClick={() => onPin(nb.index)}
        title={`Show image #${nb.index} as an anchor`}
      >
        <Thumb
          pixels={thumbPixels(thumbs, nb.index)}
          size={thumbs?.size ?? 0}
          scale={2}
          label={`neighbour #${nb.index}${name ? `, ${name}` : ''}`}
        />
      </button>
      <span className="nb-mark" aria-hidden="true">
        {nb.kept ? '✓' : '✗'}
      </span>
      <span className="nb-sim" title="cosine similarity to the anchor">
        cos {fmt(nb.similarity)}
      </span>
      <span className="nb-centre" title="cosine similarity to the anchor's cluster centre">
        to centre {fmt(nb.centreSimilarity)}
      </span>
      <span className="nb-reason">{REASON_TEXT[nb.reason]}</span>
      {name && <span className="nb-label">{name}</span>}
      {falsePositive && <span className="nb-flag">⚠ different label</span>}
      {chosen && <span className="nb-chosen">◆ chosen positive</span>}
    </li>
  );
});

/** Memoised, and fed by props only: a card re-renders when its anchor or the thumbnails change, not on every store update. */
const AnchorCard = memo(function AnchorCard({
  a,
  mode,
  thumbs,
  classNames,
  nearest,
  onPin,
  onUnpin,
}: {
  a: AnchorSelection;
  mode: string;
  thumbs: Thumbnails | null;
  classNames: string[];
  nearest: Int32Array | null;
  onPin: (i: number) => void;
  onUnpin: (i: number) => void;
}) {
  const size = thumbs?.size ?? 0;
  const kept = a.neighbours.filter((n) => n.kept).length;
  const centreImage = nearest ? nearest[a.cluster] : -1;
  const name = labelName(classNames, a.label);
  return (
    <article className="anchor-card" data-testid="anchor-card" aria-label={`Anchor image #${a.anchor}`}>
      <div className="anchor-head">
        <figure>
          <Thumb pixels={thumbPixels(thumbs, a.anchor)} size={size} scale={3} label={`anchor #${a.anchor}`} />
          <figcaption>
            anchor #{a.anchor}
            {name ? ` · ${name}` : ''}
            <br />
            cluster {a.cluster} · to centre {fmt(a.centreSimilarity)}
          </figcaption>
        </figure>
        <figure>
          <Thumb
            pixels={centreImage >= 0 ? thumbPixels(thumbs, centreImage) : null}
            size={size}
            scale={3}
            label={`image nearest the centre of cluster ${a.cluster}`}
          />
          <figcaption>centre of cluster {a.cluster} (its nearest image)</figcaption>
        </figure>
        <figure>
          <Thumb
            pixels={a.positive !== null ? thumbPixels(thumbs, a.positive) : null}
            size={size}
            scale={3}
            label="chosen positive"
          />
          <figcaption>
            {a.positive === null
              ? 'not in the last batch'
              : a.positive === a.anchor
                ? 'positive: itself (nothing was kept when the step ran)'
                : `positive #${a.positive}`}
          </figcaption>
        </figure>
        <figure>
          <Thumb
            pixels={a.mixed}
            size={a.mixedSize}
            scale={(size * 3) / Math.max(1, a.mixedSize)}
            label="mixed query view"
          />
          <figcaption>
            {a.mixed
              ? `mixed view, λ = ${fixed(a.lambda, 2)}`
              : a.lambda !== null
                ? `λ = ${fixed(a.lambda, 2)}`
                : 'no mixed view'}
          </figcaption>
        </figure>
        {a.pinned && (
          <button type="button" className="small" onClick={() => onUnpin(a.anchor)}>
            Unpin
          </button>
        )}
      </div>
      <p className="rule" data-testid="anchor-rule">
        {mode === 'center-wise' ? (
          <>
            Kept {kept} of {a.neighbours.length}: in cluster {a.cluster} and cos(z, μ) above the anchor’s{' '}
            {fmt(a.centreSimilarity)}.
          </>
        ) : (
          <>
            Kept {kept} of {a.neighbours.length}: this mode {MODE_RULE[mode]}
          </>
        )}
      </p>
      <ol className="neighbours" aria-label={`${a.neighbours.length} nearest neighbours, most similar first`}>
        {a.neighbours.map((nb, rank) => (
          // Keyed by rank: a new snapshot updates the same cells (and canvases) in place instead of rebuilding them.
          <NeighbourCell
            key={rank}
            nb={nb}
            anchor={a}
            thumbs={thumbs}
            classNames={classNames}
            chosen={a.positive === nb.index}
            onPin={onPin}
          />
        ))}
      </ol>
    </article>
  );
});

export function PositivesPane() {
  // Deferred (null on mount): the tab switch commits the light shell at once; the cards render in a following, interruptible render.
  const liveSelection = useClim((s) => s.selection);
  const selection = useDeferredValue(liveSelection, null);
  const thumbs = useDeferredValue(
    useClim((s) => s.thumbs),
    null,
  );
  const nearest = useDeferredValue(
    useClim((s) => s.clusters?.nearest ?? null),
    null,
  );
  const n = useClim((s) => s.clusters?.assignments.length ?? 0);
  const classNames = useClim((s) => s.classNames);
  const pinAnchor = useClim((s) => s.pinAnchor);
  const unpinAnchor = useClim((s) => s.unpinAnchor);
  const [pinText, setPinText] = useState('');
  const pinValue = Number(pinText);
  // One card per frame while the view mounts (see useMountedCount).
  const shownCards = useMountedCount(selection?.anchors.length ?? 0);
  const pinValid = pinText !== '' && Number.isInteger(pinValue) && pinValue >= 0 && (n === 0 || pinValue < n);

  return (
    <div className="positives-pane" data-testid="positives-pane">
      <RuleComparisonCard />
      <p className="explain">
        Each anchor’s k nearest images in the memory bank, most similar first.{' '}
        <strong>
          {selection ? MODE_RULE[selection.mode] && `This run (${selection.mode}) ${MODE_RULE[selection.mode]}` : ''}
        </strong>{' '}
        The positive is drawn from the kept ones and mixed with the anchor (CutMix/Mixup with weight λ); the query
        encoder sees that mixed view. Refreshed every 25 steps{selection ? ` (this is step ${selection.step})` : ''};
        click any neighbour to follow it as an anchor. The positive and the mixed view are what the step used; the
        neighbours are searched again just after it, on the bank that step updated, so early in training (when the bank
        changes fast) a kept neighbour can differ from the positive.
      </p>
      <form
        className="pin-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (pinValid) {
            pinAnchor(pinValue);
            setPinText('');
          }
        }}
      >
        <label>
          Show image #{' '}
          <input
            type="number"
            min={0}
            max={n ? n - 1 : undefined}
            value={pinText}
            onChange={(e) => setPinText(e.target.value)}
            aria-invalid={pinText !== '' && !pinValid}
            data-testid="pin-input"
          />
        </label>{' '}
        <button type="submit" className="small" disabled={!pinValid}>
          Pin as anchor
        </button>
        {pinText !== '' && !pinValid && (
          <span className="field-error"> Enter a training image number from 0 to {Math.max(0, n - 1)}.</span>
        )}
      </form>
      {!selection && liveSelection ? null : !selection || selection.anchors.length === 0 ? (
        <p className="chart-empty">
          The first snapshot comes at step 25 (or press Step while paused after pinning an image).
        </p>
      ) : (
        // Keyed by position: a new snapshot (new anchors) updates the cards in place rather than remounting them.
        selection.anchors
          .slice(0, shownCards)
          .map((a, i) => (
            <AnchorCard
              key={i}
              a={a}
              mode={selection.mode}
              thumbs={thumbs}
              classNames={classNames}
              nearest={nearest}
              onPin={pinAnchor}
              onUnpin={unpinAnchor}
            />
          ))
      )}
    </div>
  );
}
