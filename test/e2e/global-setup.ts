/**
 * Builds the site once into .e2e/dist (base `/`) and .e2e/dist-sub (base `/sub/`) and serves them on
 * localhost for every e2e test file: `siteUrl` plainly, `subSiteUrl` with the build's `_headers`
 * (COOP/COEP, CSP) applied as a static host would. `siteDir`/`subSiteDir` let a test start (and stop)
 * its own server, e.g. to prove that a second visit needs no server at all.
 */
import { build } from 'vite';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { serveStatic } from './static-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// E2E_OUT lets several e2e runs share a checkout without overwriting each other's builds.
const E2E_DIR = fileURLToPath(new URL(`../../${process.env.E2E_OUT ?? '.e2e'}/`, import.meta.url));
const OUT = `${E2E_DIR}dist`;
const OUT_SUB = `${E2E_DIR}dist-sub`;

declare module 'vitest' {
  export interface ProvidedContext {
    siteUrl: string;
    subSiteUrl: string;
    siteDir: string;
    subSiteDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Vitest sets NODE_ENV=test, which would make Vite build a development bundle (import.meta.env.PROD
  // false: no service worker, Svelte dev mode); build what `npm run build` ships instead.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: ROOT, logLevel: 'warn', base: '/', build: { outDir: OUT, emptyOutDir: true } });
    await build({ root: ROOT, logLevel: 'warn', base: '/sub/', build: { outDir: OUT_SUB, emptyOutDir: true } });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  const server = await serveStatic(OUT);
  const subServer = await serveStatic(OUT_SUB, { base: '/sub/', headers: true });
  project.provide('siteUrl', server.url);
  project.provide('subSiteUrl', subServer.url);
  project.provide('siteDir', OUT);
  project.provide('subSiteDir', OUT_SUB);
  return async () => {
    await Promise.all([server.close(), subServer.close()]);
  };
}
