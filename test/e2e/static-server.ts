/**
 * A plain static file server for the built site: no SPA fallback (a missing file is a real 404),
 * optional COOP/COEP headers, or (`headers: true`) the headers of the build's own `_headers` file the
 * way Netlify / Cloudflare Pages apply them. Used by the e2e tests;
 * `npx tsx test/e2e/static-server.ts dist 4173` serves a build by hand (HEADERS=1 applies `_headers`).
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.md': 'text/markdown; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface HeaderRule {
  readonly pattern: RegExp;
  readonly headers: readonly [string, string][];
}

/**
 * Parses a Netlify / Cloudflare Pages `_headers` file: an unindented line is a path pattern (`*` is a
 * splat, `:name` one segment), the indented `Name: value` lines under it are its headers, `#` starts a
 * comment. Patterns match the path relative to the site's root folder.
 */
export function parseHeadersFile(text: string): HeaderRule[] {
  const rules: { pattern: RegExp; headers: [string, string][] }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    if (!raw.trim() || raw.trim().startsWith('#')) continue;
    if (!/^\s/.test(raw)) {
      const source = raw
        .trim()
        .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/:[A-Za-z_]\w*/g, '[^/]+');
      rules.push({ pattern: new RegExp(`^${source}$`), headers: [] });
      continue;
    }
    const line = raw.trim();
    const colon = line.indexOf(':');
    const rule = rules[rules.length - 1];
    if (!rule || colon <= 0) throw new Error(`_headers: cannot read line ${JSON.stringify(raw)}`);
    rule.headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return rules;
}

export function serveStatic(
  root: string,
  opts: { port?: number; base?: string; coi?: boolean; headers?: boolean } = {},
): Promise<StaticServer> {
  const base = opts.base ?? '/';
  const headersFile = path.join(root, '_headers');
  if (opts.headers && !existsSync(headersFile)) throw new Error(`serveStatic: no _headers file in ${root}`);
  const rules = opts.headers ? parseHeadersFile(readFileSync(headersFile, 'utf8')) : [];
  const server: Server = createServer((req, res) => {
    const pathname = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    if (opts.coi) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    if (!pathname.startsWith(base)) {
      res.statusCode = 404;
      return res.end('Not found');
    }
    for (const rule of rules) {
      if (!rule.pattern.test('/' + pathname.slice(base.length))) continue;
      for (const [name, value] of rule.headers) res.setHeader(name, value);
    }
    let rel = pathname.slice(base.length);
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    if (opts.headers && rel === '_headers') {
      res.statusCode = 404; // a host reads it, never serves it
      return res.end('Not found');
    }
    const file = path.join(root, rel);
    if (!file.startsWith(path.resolve(root) + path.sep)) {
      res.statusCode = 403;
      return res.end();
    }
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      res.statusCode = 404;
      return res.end('Not found');
    }
    res.setHeader('Content-Type', MIME[path.extname(file)] ?? 'application/octet-stream');
    res.setHeader('Content-Length', size);
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({
        url: `http://localhost:${port}${base}`,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r()); // resolves also when it was already closed
            server.closeAllConnections(); // keep-alive sockets too: the site is really gone
          }),
      });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [root = 'dist', port = '4173'] = process.argv.slice(2);
  void serveStatic(path.resolve(root), { port: Number(port), base: process.env.BASE ?? '/', coi: !!process.env.COI, headers: !!process.env.HEADERS }).then((s) =>
    console.log(`serving ${root} at ${s.url}`),
  );
}
