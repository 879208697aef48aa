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
  const head = /(function\(WasmBackendModuleThreadedSimd\) \{\n\s*WasmBackendModuleThreadedSimd = WasmBackendModuleThreadedSimd \|\| \{\};\n)/;
  return {
    name: 'clim:self-contained-wasm-thread-factory',
    apply: 'build',
    transform(code, id) {
      if (!/tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/.test(id)) return null;
      if (!head.test(code)) this.error('tfjs-backend-wasm changed: the threaded factory header was not found (see vite.config.ts)');
      return {
        code: code.replace(head, "$1var _scriptDir = typeof document !== 'undefined' && document.currentScript ? document.currentScript.src : undefined;\n"),
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

export default defineConfig({
  plugins: [react()],
  server: { headers: isolation, port: 5173 },
  preview: { headers: isolation, port: 4173 },
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
