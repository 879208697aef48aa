import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The threaded WASM build starts every pthread worker from the factory's own
 * source (`factory.toString()`, tfjs-backend-wasm's backend_wasm.ts), so that
 * function must not refer to anything outside itself. It reads `_scriptDir`,
 * a variable of the enclosing IIFE, behind `typeof _scriptDir !== 'undefined'`;
 * the minifier sees a local binding, drops the guard and renames it, and each
 * pthread worker died with "ReferenceError: e is not defined". Declaring
 * `_scriptDir` inside the factory (it is undefined in a worker either way)
 * makes the source self-contained. Dev needs nothing: deps are not minified.
 */
function selfContainedWasmThreadFactory(): Plugin {
  const head =
    /(function\(WasmBackendModuleThreadedSimd\) \{\n\s*WasmBackendModuleThreadedSimd = WasmBackendModuleThreadedSimd \|\| \{\};\n)/;
  return {
    name: 'clim:self-contained-wasm-thread-factory',
    apply: 'build',
    transform(code, id) {
      if (!/tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/.test(id)) return null;
      if (!head.test(code))
        this.error('tfjs-backend-wasm changed: the threaded factory header was not found (see vite.config.ts)');
      return {
        code: code.replace(
          head,
          "$1var _scriptDir = typeof document !== 'undefined' && document.currentScript ? document.currentScript.src : undefined;\n",
        ),
        map: null,
      };
    },
  };
}

// Cross-origin isolation (COOP/COEP) lets the WASM backend use SharedArrayBuffer
// threads where the browser allows it.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Content-Security-Policy (issue 16): everything the app loads is its own;
 * nothing inline, no eval, no other origin. Each source below is there for
 * one use, named beside it.
 */
const PAGE_POLICY: Record<string, string[]> = {
  // Anything not named below is refused.
  'default-src': ["'none'"],
  // The built module scripts; no inline script (the build emits none).
  'script-src': ["'self'"],
  // The built stylesheet. React's `style` props go through the CSSOM, which CSP leaves alone; no library injects <style>.
  'style-src': ["'self'"],
  // The favicon; data: for the thumbnails (bmp.ts) and the chart PNG export (export.ts); blob: for the Clusters map (ScatterMap.tsx).
  'img-src': ["'self'", 'data:', 'blob:'],
  // The workers fetch the data sets, the shipped encoder and the .wasm files from the app itself.
  'connect-src': ["'self'"],
  // The engine, decode, UMAP and map-drawing workers, all built scripts.
  'worker-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
};

/**
 * A worker takes its policy from its own script's response, never from the
 * page's <meta>, so the workers' policy can only be a header (sent by
 * `vite preview` here; a host should send the same). A header reaches the
 * page too, which then obeys both policies: the header may add what only
 * the workers need, and the page stays under the narrower <meta>.
 */
const WORKER_POLICY: Record<string, string[]> = {
  ...PAGE_POLICY,
  // WebAssembly compilation (tfjs-backend-wasm in the engine worker); blob: for the threaded WASM
  // build (`?wasmthreads=N`), whose pthread workers importScripts a blob: copy of the Emscripten factory.
  'script-src': ["'self'", "'wasm-unsafe-eval'", 'blob:'],
  // Those pthread workers are started from blob: URLs.
  'worker-src': ["'self'", 'blob:'],
  // No page may frame the app (clickjacking); a <meta> cannot say this, a header can.
  'frame-ancestors': ["'none'"],
};

const policy = (p: Record<string, string[]>) =>
  Object.entries(p)
    .map(([k, v]) => `${k} ${v.join(' ')}`)
    .join('; ');
const PAGE_CSP = policy(PAGE_POLICY);
const WORKER_CSP = policy(WORKER_POLICY);

/**
 * The page's policy as a <meta>, in the built index.html only, so it holds
 * wherever dist/ is served, with or without headers. Not in dev: the dev
 * server's React refresh preamble is an inline script, its CSS arrives as
 * <style> tags and HMR talks over a websocket.
 */
function pagePolicyMeta(): Plugin {
  return {
    name: 'clim:page-csp-meta',
    apply: 'build',
    transformIndexHtml(html) {
      const charset = /<meta charset="UTF-8" \/>\n/;
      if (!charset.test(html))
        throw new Error('index.html changed: the CSP <meta> goes after <meta charset> (see vite.config.ts)');
      // Before every script and stylesheet, which a policy read later would not cover.
      return html.replace(
        charset,
        (m) => `${m}    <meta http-equiv="Content-Security-Policy" content="${PAGE_CSP}" />\n`,
      );
    },
  };
}

export default defineConfig({
  plugins: [react(), pagePolicyMeta()],
  server: { headers: isolation, port: 5173 },
  // The e2e suite and the browser benchmarks run on this server, so under both policies.
  preview: { headers: { ...isolation, 'Content-Security-Policy': WORKER_CSP }, port: 4173 },
  // config.plugins reach worker bundles only in dev; the worker build needs its own.
  worker: { format: 'es', plugins: () => [selfContainedWasmThreadFactory()] },
  // Pre-bundle every tfjs package together in dev so they share one tfjs-core
  // (excluding the WASM backend left it on a second, raw copy of tfjs-core and
  // its CommonJS Emscripten glue unconverted). The .wasm binaries are located
  // with ?url imports and setWasmPaths (src/worker/backend.ts).
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-backend-webgl',
      '@tensorflow/tfjs-backend-webgpu',
      '@tensorflow/tfjs-backend-wasm',
    ],
  },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
