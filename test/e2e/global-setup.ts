/** Builds the site once into .e2e/dist and serves it on localhost for every e2e test file. */
import { build } from 'vite';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { serveStatic } from './static-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = fileURLToPath(new URL('../../.e2e/dist', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    siteUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await build({ root: ROOT, logLevel: 'warn', base: '/', build: { outDir: OUT, emptyOutDir: true } });
  const server = await serveStatic(OUT);
  project.provide('siteUrl', server.url);
  return () => server.close();
}
