/**
 * Which tfjs backends to try, best first. Pure, so the ranking is unit-tested
 * without a browser; the worker does the probing and calls this.
 */

export const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendProbe {
  /** null when navigator.gpu is absent or no adapter was granted. */
  webgpu: null | { isFallbackAdapter: boolean; description: string };
  webgl: boolean;
  /**
   * WebGL through a software rasteriser (SwiftShader, llvmpipe). Such WebGL
   * trained an order of magnitude slower than WASM on a 2-core CPU (METHOD §8), so it ranks
   * below WASM like a fallback WebGPU adapter does.
   */
  webglSoftware?: boolean;
  wasm: boolean;
}

export function isBackendName(x: unknown): x is BackendName {
  return typeof x === 'string' && (BACKEND_NAMES as readonly string[]).includes(x);
}

/**
 * Auto order: WebGPU on a hardware adapter, then WebGL, then WASM, then the
 * pure-JS cpu backend. Software WebGL and a software WebGPU adapter
 * (SwiftShader) rank below WASM, in that order: on a 2-core CPU they measured
 * an order of magnitude slower per step than WASM, WebGPU the slower (METHOD §8). A forced
 * backend goes first, even when the probe says it is missing, so that the
 * failure is reported rather than silently replaced; the rest follow as
 * fallbacks. `cpu` is always last because it always exists.
 *
 * `exclude`: backends that already failed in this page (a lost WebGPU device,
 * an out-of-memory WebGL context), so a recovery moves on to the next one;
 * `cpu` is never excluded, so there is always somewhere to go.
 */
export function backendOrder(
  probe: BackendProbe,
  forced?: BackendName | null,
  exclude: readonly BackendName[] = [],
): BackendName[] {
  const keep = (b: BackendName) => b === 'cpu' || !exclude.includes(b);
  return rank(probe, forced).filter(keep);
}

function rank(probe: BackendProbe, forced?: BackendName | null): BackendName[] {
  const order: BackendName[] = [];
  const gpu = probe.webgpu;
  if (gpu && !gpu.isFallbackAdapter) order.push('webgpu');
  if (probe.webgl && !probe.webglSoftware) order.push('webgl');
  if (probe.wasm) order.push('wasm');
  if (probe.webgl && probe.webglSoftware) order.push('webgl');
  if (gpu && gpu.isFallbackAdapter) order.push('webgpu');
  order.push('cpu');
  if (!forced) return order;
  return [forced, ...order.filter((b) => b !== forced)];
}
