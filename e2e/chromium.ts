/**
 * How the tests and the browser benchmark start Debian's Chromium (never a
 * downloaded browser): one place for the path and the flags, so the bench
 * sees what the e2e tests see.
 */
export const CHROMIUM_EXECUTABLE = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  // Without it headless Chromium on Linux offers no WebGPU adapter at all.
  '--enable-unsafe-webgpu',
  // Keeps the auto-picked backend the same on machines with and without
  // a GPU (software WebGL/WebGPU rank below WASM). Checked in Chromium
  // 156: the SwiftShader WebGPU adapter is still offered with this flag.
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
