/** The engine worker's stand-in for the UI tests: records requests (and transfer lists), lets a test push events. */
import type { WorkerLike } from '../worker/client';
import type { WorkerEvent, WorkerRequest } from '../worker/protocol';

export class FakeWorker implements WorkerLike {
  sent: WorkerRequest[] = [];
  transfers: (Transferable[] | undefined)[] = [];
  terminated = false;
  onmessage: ((ev: MessageEvent<WorkerEvent>) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  postMessage(m: WorkerRequest, transfer?: Transferable[]) {
    this.sent.push(m);
    this.transfers.push(transfer);
  }
  terminate() {
    this.terminated = true;
  }
  emit(e: WorkerEvent) {
    this.onmessage?.({ data: e } as MessageEvent<WorkerEvent>);
  }
  get last() {
    return this.sent[this.sent.length - 1];
  }
  get lastRunId() {
    return this.last.runId;
  }
  types() {
    return this.sent.map((m) => m.type);
  }
}
