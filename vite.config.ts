/// <reference types="vitest/config" />
import { defineConfig, type Plugin, type Connect } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MODELS_DIR = fileURLToPath(new URL('./models', import.meta.url));
const MIME: Record<string, string> = {
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.onnx': 'application/octet-stream',
  '.md': 'text/markdown; charset=utf-8',
};
/** Never served or copied: the foundry's recipe and caches are build-time only. */
const isPrivate = (rel: string) => rel.split(/[\\/]/)[0] === 'foundry';

/**
 * Serves ./models at <base>models/ in dev and preview with real 404s (never the SPA index.html),
 * and copies it to <outDir>/models at build time.
 */
function models(): Plugin {
  let base = '/';
  let outDir = 'dist';
  let isBuild = false;
  const serve: Connect.NextHandleFunction = (req, res, next) => {
    const pathname = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
    const prefix = base + 'models/';
    if (!pathname.startsWith(prefix)) return next();
    const rel = pathname.slice(prefix.length);
    const file = path.join(MODELS_DIR, rel);
    if (!file.startsWith(MODELS_DIR + path.sep) || isPrivate(rel)) {
      res.statusCode = 404;
      return res.end('Not found');
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.statusCode = 404;
        return res.end('Not found');
      }
      res.setHeader('Content-Type', MIME[path.extname(file)] ?? 'application/octet-stream');
      res.setHeader('Content-Length', st.size);
      fs.createReadStream(file).pipe(res);
    });
  };
  return {
    name: 'decoding-lab-models',
    configResolved(c) {
      base = c.base;
      outDir = path.resolve(c.root, c.build.outDir);
      isBuild = c.command === 'build';
    },
    configureServer(s) {
      s.middlewares.use(serve);
    },
    configurePreviewServer(s) {
      s.middlewares.use(serve);
    },
    writeBundle() {
      if (!isBuild) return;
      fs.cpSync(MODELS_DIR, path.join(outDir, 'models'), {
        recursive: true,
        filter: (src) => !isPrivate(path.relative(MODELS_DIR, src)),
      });
    },
  };
}

const coi = process.env.COI
  ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
  : undefined;

/**
 * The offline service worker (Workbox generateSW): precaches the app shell, the ORT runtime and every
 * bundled model under <base>models/, so a second visit works with the network off. Each build writes a
 * new precache manifest (file revisions); the new worker takes over at once, drops stale entries, and
 * the page reloads once. transformers.js's own caches are off (src/inference/worker.ts).
 * No navigateFallback: a missing model or config file stays a real 404 (never index.html); query
 * strings are ignored when matching precached files, so `<base>?device=wasm` is served offline.
 * Registered from src/main.ts in production builds only.
 */
const pwa = VitePWA({
  strategies: 'generateSW',
  registerType: 'autoUpdate',
  injectRegister: false,
  manifest: {
    name: 'Decoding Lab',
    short_name: 'Decoding Lab',
    description: 'Reward-guided decoding and beam search on small ONNX models, entirely in the browser',
    theme_color: '#2f5bd3',
    background_color: '#ffffff',
    icons: [{ src: 'favicon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
  },
  workbox: {
    globPatterns: ['**/*.{html,js,mjs,css,wasm}', 'models/**/*'], // + the manifest and its icon
    maximumFileSizeToCacheInBytes: 64 * 1024 * 1024, // the ORT wasm is ~27 MB
    navigateFallback: null,
    ignoreURLParametersMatching: [/.*/],
    cleanupOutdatedCaches: true,
    skipWaiting: true,
    clientsClaim: true,
  },
});

export default defineConfig({
  base: process.env.BASE ?? '/',
  plugins: [svelte(), models(), pwa],
  worker: { format: 'es' },
  optimizeDeps: { include: ['@huggingface/transformers'] },
  server: { headers: coi },
  preview: { headers: coi },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'core', environment: 'node', include: ['test/core/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          environment: 'node',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        resolve: { conditions: ['browser'] },
        test: { name: 'dom', environment: 'happy-dom', include: ['test/dom/**/*.svelte.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
