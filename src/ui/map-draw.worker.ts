/**
 * Draws the Clusters map's points off the main thread. Blending 20,000
 * markers into one ImageData took 76–137 ms on this machine's software
 * rendering: far over the 50 ms a main-thread task may take while training.
 * Here it costs the page only a drawImage of the returned bitmap.
 */
/// <reference lib="webworker" />
import { bucketByGroup, drawPoints } from './scatter-draw';

declare const self: DedicatedWorkerGlobalScope;

export interface MapDrawRequest {
  id: number;
  /** N×2 CSS px (NaN: skip). */
  screen: Float32Array;
  groups: Int32Array;
  n: number;
  width: number;
  height: number;
  dpr: number;
  r: number;
}

export interface MapDrawResult {
  id: number;
  bitmap: ImageBitmap;
  ms: number;
}

let canvas: OffscreenCanvas | null = null;

self.onmessage = (ev: MessageEvent<MapDrawRequest>) => {
  const q = ev.data;
  const W = Math.max(1, Math.round(q.width * q.dpr));
  const H = Math.max(1, Math.round(q.height * q.dpr));
  if (!canvas) canvas = new OffscreenCanvas(W, H);
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2-D context for an OffscreenCanvas in this browser');
  const ms = drawPoints(ctx, q.screen, bucketByGroup(q.groups, q.n), q.width, q.height, q.dpr, q.r);
  const bitmap = canvas.transferToImageBitmap();
  const out: MapDrawResult = { id: q.id, bitmap, ms };
  self.postMessage(out, [bitmap]);
};
