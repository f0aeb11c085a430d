/**
 * A local stand-in for the Hugging Face hub: `/<org>/<name>/resolve/<revision>/<file>` answered from
 * a folder chosen per repository id, for GET and HEAD, with Content-Length and CORS, large files sent
 * in 8 chunks 40 ms apart so that progress has time to show. Every request is recorded.
 */
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';

export interface FakeHub {
  readonly url: string;
  /** "METHOD /org/name/resolve/main/file", in arrival order. */
  readonly requests: string[];
  /** The requests answered 404. */
  readonly missing: string[];
  close(): Promise<void>;
}

/** Serves `folders[repoId]/<file>` at `<url><repoId>/resolve/<rev>/<file>`; anything else is a 404. */
export function serveFakeHub(folders: Readonly<Record<string, string>>): Promise<FakeHub> {
  const requests: string[] = [];
  const missing: string[] = [];
  const server: Server = createServer((req, res) => {
    const pathname = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
    requests.push(`${req.method} ${pathname}`);
    res.setHeader('Access-Control-Allow-Origin', '*');
    const m = /^\/([\w.-]+\/[\w.-]+)\/resolve\/[^/]+\/(.+)$/.exec(pathname);
    const dir = m ? folders[m[1] as string] : undefined;
    const file = dir && m ? path.join(dir, m[2] as string) : '';
    if (!dir || !file.startsWith(dir + path.sep) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      missing.push(`${req.method} ${pathname}`);
      res.statusCode = 404;
      return res.end('Entry not found');
    }
    const data = readFileSync(file);
    res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    res.setHeader('Content-Length', data.length);
    if (req.method === 'HEAD') return res.end();
    const chunk = Math.ceil(data.length / 8);
    let off = 0;
    const next = () => {
      if (off >= data.length) return res.end();
      res.write(data.subarray(off, off + chunk));
      off += chunk;
      setTimeout(next, data.length > 100_000 ? 40 : 0);
    };
    next();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({ url: `http://127.0.0.1:${port}/`, requests, missing, close: () => new Promise<void>((r) => (server.close(() => r()), server.closeAllConnections())) });
    }),
  );
}
