/**
 * JavaScript bundle size of a build: every .js/.mjs file under the build folder (the app, the worker,
 * lazy chunks, ORT's glue .mjs, the service worker), raw and gzipped (zlib's default level 6, what
 * static hosts typically serve); .wasm and the models are not JavaScript and are left out.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUNDLE_TARGET, check, type BundleFile, type BundleReport } from './report.ts';

function walk(dir: string, root: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    const rel = path.relative(root, full).split(path.sep).join('/');
    if (rel === 'models') continue; // bundled models and datasets, not code
    if (statSync(full).isDirectory()) walk(full, root, out);
    else if (/\.m?js$/.test(name)) out.push(rel);
  }
}

/** Sizes of every JS file of `distDir`; `loaded` (paths relative to the site root) marks what the page fetched. */
export function bundleReport(distDir: string, loaded?: ReadonlySet<string>): BundleReport {
  const files: string[] = [];
  walk(distDir, distDir, files);
  if (files.length === 0) throw new Error(`bundle size: no .js/.mjs files under ${distDir}; build the site first (npm run build)`);
  const rows: BundleFile[] = files
    .map((file) => {
      const buf = readFileSync(path.join(distDir, file));
      return { file, bytes: buf.length, gzip: gzipSync(buf).length, ...(loaded ? { loaded: loaded.has(file) } : {}) };
    })
    .sort((a, b) => b.gzip - a.gzip);
  const totalGzip = rows.reduce((s, f) => s + f.gzip, 0);
  const totalBytes = rows.reduce((s, f) => s + f.bytes, 0);
  const kb = totalGzip / 1024;
  const biggest = rows[0];
  return {
    files: rows,
    totalGzip,
    totalBytes,
    target: check(BUNDLE_TARGET, kb, () => `${kb.toFixed(1)} KB gzipped in ${rows.length} files; the largest is ${biggest?.file} (${((biggest?.gzip ?? 0) / 1024).toFixed(1)} KB)`),
  };
}
