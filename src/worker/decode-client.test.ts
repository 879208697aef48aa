import { describe, expect, it } from 'vitest';
import { DecodeClient, sendInSlices, type DecodeWorkerLike } from './decode-client';
import type { DecodeEvent, DecodeRequest, UploadFile } from './decode-protocol';

describe('sendInSlices', () => {
  it('posts every item once, in order, in chunks, yielding each time the budget is spent', async () => {
    let clock = 0;
    const posted: number[][] = [];
    let yields = 0;
    const items = Array.from({ length: 103 }, (_, i) => i);
    const done = await sendInSlices(items, (s) => ((clock += 3 * s.length), posted.push(s)), {
      chunk: 10,
      budgetMs: 50,
      now: () => clock,
      yieldToPage: async () => void yields++,
    });
    expect(done).toBe(true);
    expect(posted.flat()).toEqual(items);
    expect(posted.map((s) => s.length)).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
    // 30 ms per chunk against a 50 ms budget: a yield after every second chunk, none after the last.
    expect(yields).toBe(5);
  });

  it('stops part way when the job is no longer wanted, and handles an empty list', async () => {
    const posted: number[][] = [];
    let left = 2;
    const done = await sendInSlices([1, 2, 3, 4, 5], (s) => posted.push(s), {
      chunk: 2,
      stillWanted: () => left-- > 0,
      yieldToPage: async () => {},
    });
    expect(done).toBe(false);
    expect(posted).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(await sendInSlices([], () => posted.push([]))).toBe(true);
    expect(posted).toHaveLength(2);
  });
});

class FakeWorker implements DecodeWorkerLike {
  sent: DecodeRequest[] = [];
  onmessage: ((ev: MessageEvent<DecodeEvent>) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  postMessage(m: DecodeRequest) {
    this.sent.push(m);
  }
  terminate() {}
}

describe('DecodeClient.scan', () => {
  it('sends the list in slices then scan; a newer job cuts the older one short and it never gets a scan', async () => {
    const w = new FakeWorker();
    let clock = 0;
    const gate: (() => void)[] = [];
    const client = new DecodeClient(
      () => {},
      () => w,
      {
        chunk: 2,
        budgetMs: 1,
        now: () => (clock += 1),
        yieldToPage: () => new Promise<void>((r) => gate.push(r)),
      },
    );
    const files: UploadFile[] = Array.from({ length: 5 }, (_, i) => ({
      path: `a/${i}.png`,
      file: new Blob([new Uint8Array([i])]),
    }));
    const first = client.scan(files, 'a');
    expect(w.sent).toEqual([{ type: 'files', jobId: first, files: files.slice(0, 2) }]);
    const second = client.scan(files.slice(0, 1), 'b');
    expect(second).toBe(first + 1);
    gate.splice(0).forEach((r) => r());
    await new Promise((r) => setTimeout(r, 0));
    const kinds = w.sent.map((m) => `${m.type}:${m.jobId}`);
    expect(kinds).toEqual([`files:${first}`, `cancel:${first}`, `files:${second}`, `scan:${second}`]);
  });
});
