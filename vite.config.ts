import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

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
  worker: { format: 'es' },
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
