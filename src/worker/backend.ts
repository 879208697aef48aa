/**
 * Backend set-up inside the worker: probe what the browser offers, rank it
 * with backendOrder, and take the first backend that really computes.
 */
import * as tf from '@tensorflow/tfjs';
// Side-effect imports register the backends with tfjs.
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Vite copies the binaries into the build and gives their URLs; without an
// explicit map tfjs would look for them next to the worker bundle and fail.
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { backendOrder, type BackendName, type BackendProbe } from '../core/backend-order';
import type { BackendAttempt } from './protocol';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
});

/** Size of the threaded WASM build's pre-started pthread pool (tfjs-backend-wasm cc/BUILD). */
export const MAX_WASM_THREADS = 8;

/**
 * WASM threads, decided before the first tf.setBackend('wasm') (tfjs reads
 * the flag and the count when the module loads).
 *
 * Default (1): the single-threaded SIMD build. The threaded build works in
 * the production bundle since vite.config.ts keeps its pthread factory
 * self-contained (before, every pthread worker failed with "e is not
 * defined"), but tfjs caps its XNNPACK pool at navigator.hardwareConcurrency
 * / 2, one thread on a 2-core machine, and 2 threads measured slower than 1
 * there while another process used the second core (bench/browser.ts).
 *
 * n > 1 (page option `?wasmthreads=n`): the threaded build with n threads
 * (at most MAX_WASM_THREADS), where the page is cross-origin isolated;
 * otherwise tfjs falls back to the SIMD build and the adapter says 1 thread.
 * To pass tfjs' cap, navigator.hardwareConcurrency reads 2n in this worker
 * while the module initialises, and is restored by the returned function.
 */
export function configureWasmThreads(requested: number | undefined): () => void {
  const n = Math.min(MAX_WASM_THREADS, Math.max(1, Math.floor(requested ?? 1)));
  if (n <= 1) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    return () => {};
  }
  setThreadsCount(n);
  const nav = globalThis.navigator as Navigator | undefined;
  if (!nav || (nav.hardwareConcurrency ?? 0) >= 2 * n) return () => {};
  Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * n, configurable: true });
  // The own property shadows the prototype's getter; deleting it restores the real count.
  return () => {
    delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  };
}

/** The slice of WebGPU we read; lib.dom of this TypeScript has no WebGPU types. */
interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: GpuAdapterInfoLike;
  requestAdapterInfo?: () => Promise<GpuAdapterInfoLike>;
}
interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software|basic render/i;

export interface WebGpuProbe {
  isFallbackAdapter: boolean;
  description: string;
}

/** The adapter, or why there is none (shown when WebGPU was asked for). */
export async function probeWebGpu(): Promise<{ adapter: WebGpuProbe | null; reason: string }> {
  const gpu = (globalThis.navigator as unknown as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu)
    return {
      adapter: null,
      reason:
        'this browser exposes no navigator.gpu here (WebGPU needs a secure origin; Chromium on Linux needs --enable-unsafe-webgpu)',
    };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { adapter: null, reason: 'navigator.gpu.requestAdapter() returned no adapter' };
    let info = adapter.info;
    if (!info && adapter.requestAdapterInfo) info = await adapter.requestAdapterInfo().catch(() => undefined);
    // Chromium 156 leaves adapter.isFallbackAdapter undefined and reports it
    // on adapter.info instead (METHOD §8); SwiftShader is software either way.
    const isFallbackAdapter =
      (adapter.isFallbackAdapter ?? info?.isFallbackAdapter ?? false) || /swiftshader/i.test(info?.architecture ?? '');
    const description =
      [info?.vendor, info?.architecture, info?.device, info?.description]
        .filter((s): s is string => !!s)
        .filter((s, i, all) => all.indexOf(s) === i)
        .join(' ') || 'unknown WebGPU adapter';
    return { adapter: { isFallbackAdapter, description }, reason: '' };
  } catch (e) {
    return { adapter: null, reason: `requestAdapter failed: ${message(e)}` };
  }
}

export function probeWebGl(): { ok: boolean; software: boolean; renderer: string } {
  try {
    if (typeof OffscreenCanvas === 'undefined') return { ok: false, software: false, renderer: '' };
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return { ok: false, software: false, renderer: '' };
    const dbg = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(dbg ? dbg.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return { ok: true, software: SOFTWARE_GL.test(renderer), renderer };
  } catch {
    return { ok: false, software: false, renderer: '' };
  }
}

export function probeWasm(): boolean {
  return typeof WebAssembly === 'object' && typeof WebAssembly.instantiate === 'function';
}

export interface BackendChoice {
  backend: BackendName;
  adapter: string;
  isFallbackAdapter: boolean;
  failed: BackendAttempt[];
}

/**
 * Tries backends in order until one initialises and computes 1 + 1 = 2 read
 * back asynchronously (dataSync is unreliable on WebGPU in a worker, §8).
 * Throws only when none works, which cannot happen while cpu exists.
 */
export async function setUpBackend(
  forced: BackendName | null = null,
  opts: { wasmThreads?: number; exclude?: readonly BackendName[] } = {},
): Promise<BackendChoice> {
  const restore = configureWasmThreads(opts.wasmThreads);
  try {
    return await pickBackend(forced, opts.exclude ?? []);
  } finally {
    restore();
  }
}

async function pickBackend(forced: BackendName | null, exclude: readonly BackendName[]): Promise<BackendChoice> {
  const { adapter: gpu, reason: noGpu } = await probeWebGpu();
  const gl = probeWebGl();
  const probe: BackendProbe = { webgpu: gpu, webgl: gl.ok, webglSoftware: gl.software, wasm: probeWasm() };
  const failed: BackendAttempt[] = [];
  for (const name of backendOrder(probe, forced, exclude)) {
    try {
      // A forced backend the probe did not find: say why rather than let tfjs fail vaguely.
      if (name === 'webgpu' && !gpu) throw new Error(noGpu);
      if (name === 'webgl' && !gl.ok) throw new Error('no WebGL 2 context could be created');
      if (name === 'wasm' && !probe.wasm) throw new Error('WebAssembly is not available');
      if (!(await tf.setBackend(name))) throw new Error(`tfjs could not initialise the ${name} backend`);
      await tf.ready();
      const two = tf.add(tf.scalar(1), tf.scalar(1));
      const v = (await two.data())[0];
      two.dispose();
      if (v !== 2) throw new Error(`${name} computed 1 + 1 = ${v}`);
      return { backend: name, ...(await describe(name, gpu, gl.renderer)), failed };
    } catch (e) {
      failed.push({ backend: name, error: message(e) });
    }
  }
  throw new Error(`No tfjs backend works here: ${failed.map((f) => `${f.backend}: ${f.error}`).join('; ')}`);
}

async function describe(
  name: BackendName,
  gpu: WebGpuProbe | null,
  glRenderer: string,
): Promise<{ adapter: string; isFallbackAdapter: boolean }> {
  switch (name) {
    case 'webgpu':
      return { adapter: gpu?.description ?? 'WebGPU', isFallbackAdapter: gpu?.isFallbackAdapter ?? false };
    case 'webgl':
      return { adapter: glRenderer || 'WebGL 2', isFallbackAdapter: SOFTWARE_GL.test(glRenderer) };
    case 'wasm': {
      const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      const threaded = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
      let threads = 1;
      try {
        threads = getThreadsCount();
      } catch {
        // Older builds lack the query; one thread is the safe claim.
      }
      const build = `${simd ? ' SIMD' : ''}${threaded ? ' (threaded build)' : ''}`;
      return { adapter: `WebAssembly${build}, ${threads} thread${threads === 1 ? '' : 's'}`, isFallbackAdapter: false };
    }
    case 'cpu':
      return { adapter: 'plain JavaScript', isFallbackAdapter: false };
  }
}
