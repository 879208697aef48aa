/**
 * The engine's request table: each request type to its handler. Handlers
 * that are whole features (persistence, ablation, recovery, run set-up) call
 * into their engine-*.ts module; the run controls (start, pause, step, reset,
 * evaluate) are short enough to read here, beside each other.
 */
import type { Engine } from './engine';
import type { RequestOf, WorkerRequest } from './protocol';
import { MAX_PINNED } from './protocol';
import {
  onCommitRestore,
  onDiscardSaved,
  onExportBundle,
  onExportRun,
  onListSaved,
  onPrepareRestore,
  onSaveNow,
  saveRun,
} from './engine-persistence';
import { onRunAblation, onStopAblation } from './engine-ablation';
import { onTestFault } from './engine-recovery';
import { onConfigure, onInit, onSetDataset, onSetInitWeights, onSetLive, onSetUpload } from './engine-setup';
import { imagesOf } from './thumbnails';
import { onExtendRun } from './engine-finish';
export type Handlers = { [K in WorkerRequest['type']]: (r: RequestOf<K>) => void };

export function handlersFor(eng: Engine): Handlers {
  return {
    init: (r) => {
      onInit(eng, r);
    },
    configure: (r) => {
      onConfigure(eng, r);
    },
    setDataset: (r) => {
      onSetDataset(eng, r);
    },
    setUpload: (r) => {
      onSetUpload(eng, r);
    },
    setInitWeights: (r) => {
      onSetInitWeights(eng, r);
    },
    pinAnchors: (r) => {
      eng.pinned = r.indices.slice(0, MAX_PINNED);
      const id = eng.runId;
      // While paused (or before the first step) show the pinned anchors now; a running loop shows them at its next report.
      if (!eng.running)
        void eng.enqueue(async () => {
          if (eng.trainer && id === eng.runId) await eng.sendSnapshots(eng.trainer, id);
        });
    },
    requestImages: (r) => {
      const id = eng.runId;
      // Off the queue: the pixels are the data set's bytes, no model needed, so hover stays quick while a step runs.
      const d = eng.dataset;
      if (d) eng.post({ type: 'images', runId: id, thumbs: imagesOf(d, r.indices) });
    },
    requestEmbeddings: (r) => {
      const id = eng.runId;
      void eng.enqueue(async () => {
        if (!eng.trainer || id !== eng.runId) return;
        const dump = await eng.trainer.embeddingsDump(r.max);
        if (id === eng.runId) eng.post({ type: 'embeddings', runId: id, dump });
      });
    },
    start: () => {
      if (eng.running) return;
      eng.running = true;
      const id = eng.runId;
      const token = ++eng.loop;
      void eng.enqueue(async () => {
        const t = await eng.ensureTrainer(id);
        if (!t || id !== eng.runId || token !== eng.loop) return;
        // A finished run steps no further (its rate is 0): extendRun gives it more steps.
        if (!eng.running || eng.isFinished(t)) {
          eng.running = false;
          eng.setState(eng.restingState(), id);
          return;
        }
        eng.lastFlush = performance.now();
        eng.setState('running', id);
        eng.scheduleNext(id, token);
      });
    },
    pause: () => {
      if (!eng.running) return;
      eng.running = false;
      const id = eng.runId;
      // Behind the in-flight step, so the reported step count is final
      // (stepOnce may have said 'paused' already, before that step's reports).
      void eng.enqueue(async () => {
        if (id !== eng.runId) return;
        eng.flush(id);
        const rest = eng.restingState();
        if (eng.state !== rest) eng.setState(rest, id);
        // A paused tab may be closed next: keep what was trained (unless the last save is this step).
        if (eng.trainer && eng.savedStep !== eng.trainer.step) await saveRun(eng, eng.trainer, id, 'pause');
      });
    },
    listSaved: () => {
      onListSaved(eng);
    },
    discardSaved: (r) => {
      onDiscardSaved(eng, r);
    },
    saveNow: () => {
      onSaveNow(eng);
    },
    prepareRestore: (r) => {
      onPrepareRestore(eng, r);
    },
    commitRestore: (r) => {
      onCommitRestore(eng, r);
    },
    exportBundle: () => {
      onExportBundle(eng);
    },
    evaluate: (r) => {
      const id = eng.runId;
      void eng.enqueue(async () => {
        if (!eng.trainer || id !== eng.runId)
          throw new Error('There is no encoder to evaluate yet: start or step the run first.');
        await eng.evaluateAndPost(eng.trainer, id, r.full, eng.trainer.data);
      });
    },
    exportRun: () => {
      onExportRun(eng);
    },
    step: () => {
      if (eng.running) return;
      const id = eng.runId;
      void eng.enqueue(async () => {
        const t = await eng.ensureTrainer(id);
        if (!t || id !== eng.runId) return;
        if (eng.isFinished(t)) {
          eng.setState('finished', id);
          return;
        }
        await eng.stepOnce(t, id);
        // The step that reached totalSteps has said 'finished' (finishRun).
        if (eng.isFinished(t) && eng.state === 'finished') return;
        eng.flush(id);
        eng.setState('paused', id);
      });
    },
    extendRun: (r) => {
      onExtendRun(eng, r);
    },
    reset: () => {
      eng.stopNow();
      void eng.enqueue(() => {
        eng.disposeTrainer();
        eng.setState('idle');
      });
    },
    setLive: (r) => {
      onSetLive(eng, r);
    },
    runAblation: (r) => {
      onRunAblation(eng, r);
    },
    stopAblation: () => {
      onStopAblation(eng);
    },
    testFault: (r) => {
      onTestFault(eng, r);
    },
    dispose: () => {
      eng.stopNow();
      void eng.enqueue(() => {
        eng.disposeTrainer();
        eng.prepared?.trainer.dispose();
        eng.store?.close();
        eng.deps.close();
      });
    },
  };
}
