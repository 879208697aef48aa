import { describe, expect, it } from 'vitest';
import { backendOrder, isBackendName, type BackendProbe } from './backend-order';

const hw = { isFallbackAdapter: false, description: 'nvidia ampere' };
const sw = { isFallbackAdapter: true, description: 'google swiftshader' };
const probe = (p: Partial<BackendProbe>): BackendProbe => ({ webgpu: null, webgl: false, wasm: false, ...p });

describe('backendOrder', () => {
  it('puts hardware WebGPU first, then WebGL, WASM, cpu', () => {
    expect(backendOrder(probe({ webgpu: hw, webgl: true, wasm: true }))).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
  });

  it('ranks a software (fallback) WebGPU adapter below WASM', () => {
    expect(backendOrder(probe({ webgpu: sw, webgl: true, wasm: true }))).toEqual(['webgl', 'wasm', 'webgpu', 'cpu']);
    expect(backendOrder(probe({ webgpu: sw, wasm: true }))).toEqual(['wasm', 'webgpu', 'cpu']);
  });

  it('ranks software WebGL below WASM but above software WebGPU', () => {
    expect(backendOrder(probe({ webgpu: sw, webgl: true, webglSoftware: true, wasm: true }))).toEqual([
      'wasm',
      'webgl',
      'webgpu',
      'cpu',
    ]);
    expect(backendOrder(probe({ webgpu: hw, webgl: true, webglSoftware: true, wasm: true }))).toEqual([
      'webgpu',
      'wasm',
      'webgl',
      'cpu',
    ]);
    expect(backendOrder(probe({ webgl: true, webglSoftware: false, wasm: true }))).toEqual(['webgl', 'wasm', 'cpu']);
  });

  it('leaves out what the probe did not find, and always ends with cpu', () => {
    expect(backendOrder(probe({ wasm: true }))).toEqual(['wasm', 'cpu']);
    expect(backendOrder(probe({}))).toEqual(['cpu']);
    expect(backendOrder(probe({ webgl: true }))).toEqual(['webgl', 'cpu']);
  });

  it('puts a forced backend first and keeps the rest as fallbacks, without duplicates', () => {
    expect(backendOrder(probe({ webgpu: sw, webgl: true, wasm: true }), 'webgpu')).toEqual([
      'webgpu',
      'webgl',
      'wasm',
      'cpu',
    ]);
    expect(backendOrder(probe({ webgpu: hw, webgl: true, wasm: true }), 'cpu')).toEqual([
      'cpu',
      'webgpu',
      'webgl',
      'wasm',
    ]);
    expect(backendOrder(probe({ wasm: true }), 'wasm')).toEqual(['wasm', 'cpu']);
  });

  it('tries a forced backend even when the probe missed it, so its failure is reported', () => {
    expect(backendOrder(probe({ wasm: true }), 'webgpu')).toEqual(['webgpu', 'wasm', 'cpu']);
  });

  it('treats null and undefined as auto', () => {
    const p = probe({ webgl: true, wasm: true });
    expect(backendOrder(p, null)).toEqual(backendOrder(p));
    expect(backendOrder(p, undefined)).toEqual(['webgl', 'wasm', 'cpu']);
  });
});

describe('isBackendName', () => {
  it('accepts the four names only', () => {
    for (const b of ['webgpu', 'webgl', 'wasm', 'cpu']) expect(isBackendName(b)).toBe(true);
    for (const b of ['WebGPU', '', 'tensorflow', null, 3]) expect(isBackendName(b)).toBe(false);
  });
  it('skips backends that failed in this page, never cpu', () => {
    const all = probe({ webgpu: hw, webgl: true, wasm: true });
    expect(backendOrder(all, null, ['webgpu'])).toEqual(['webgl', 'wasm', 'cpu']);
    expect(backendOrder(all, null, ['webgpu', 'webgl', 'wasm'])).toEqual(['cpu']);
    expect(backendOrder(all, null, ['wasm', 'cpu'])).toEqual(['webgpu', 'webgl', 'cpu']);
    expect(backendOrder(all, 'webgpu', ['webgpu'])).toEqual(['webgl', 'wasm', 'cpu']);
  });
});
