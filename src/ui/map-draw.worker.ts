/**
 * Draws the Clusters map's points off the main thread. Blending 20,000
 * markers into one ImageData on this machine's software rendering took far
 * over the 50 ms a main-thread task may take while training
 * (docs/BENCHMARKS.md §M13).
 * The PNG is encoded here too: the page shows it as an image (see
 * ScatterMap.tsx for why not a canvas).
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
  png: Blob;
  /** Time to draw the points (not to encode the PNG). */
  ms: number;
}

let canvas: OffscreenCanvas | null = null;

self.onmessage = async (ev: MessageEvent<MapDrawRequest>) => {
  const q = ev.data;
  const W = Math.max(1, Math.round(q.width * q.dpr));
  const H = Math.max(1, Math.round(q.height * q.dpr));
  if (!canvas) canvas = new OffscreenCanvas(W, H);
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2-D context for an OffscreenCanvas in this browser');
  const ms = drawPoints(ctx, q.screen, bucketByGroup(q.groups, q.n), q.width, q.height, q.dpr, q.r);
  const png = await canvas.convertToBlob({ type: 'image/png' });
  const out: MapDrawResult = { id: q.id, png, ms };
  self.postMessage(out);
};
