/**
 * A plain static file server for the built site: no SPA fallback (a missing file is a real 404),
 * optional COOP/COEP headers. Used by the e2e tests; `npx tsx test/e2e/static-server.ts dist 4173`
 * serves a build by hand.
 */
import { createReadStream, statSync } from 'node:fs';
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

export function serveStatic(root: string, opts: { port?: number; base?: string; coi?: boolean } = {}): Promise<StaticServer> {
  const base = opts.base ?? '/';
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
    let rel = pathname.slice(base.length);
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
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
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [root = 'dist', port = '4173'] = process.argv.slice(2);
  void serveStatic(path.resolve(root), { port: Number(port), base: process.env.BASE ?? '/', coi: !!process.env.COI }).then((s) =>
    console.log(`serving ${root} at ${s.url}`),
  );
}
