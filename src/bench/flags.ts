/**
 * Flags of `npm run bench` (src/bench/run.ts). Bad flags are a BenchUsageError naming the flag and
 * what it takes (exit code 2).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = fileURLToPath(new URL('../../bench/', import.meta.url));

export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

export interface RunFlags {
  nodeOnly: boolean;
  browserOnly: boolean;
  reps?: number;
  browserReps?: number;
  tokens?: number;
  webgpu: 'auto' | 'force' | 'off';
  ttftRuns?: number;
  write: boolean;
  out: string;
}

/** Parses the flags above; anything else is a usage error naming the flag. */
export function parseRunFlags(argv: readonly string[]): RunFlags {
  const f: RunFlags = { nodeOnly: false, browserOnly: false, webgpu: 'auto', write: true, out: BENCH_DIR };
  const int = (name: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) throw new BenchUsageError(`${name} needs an integer >= ${min} (got ${v === undefined ? 'nothing' : JSON.stringify(v)})`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (name) {
      case '--node-only': f.nodeOnly = true; break;
      case '--browser-only': f.browserOnly = true; break;
      case '--reps': f.reps = int(name, value(), 1); break;
      case '--browser-reps': f.browserReps = int(name, value(), 1); break;
      case '--tokens': f.tokens = int(name, value(), 2); break;
      case '--webgpu': f.webgpu = 'force'; break;
      case '--no-webgpu': f.webgpu = 'off'; break;
      case '--ttft-runs': f.ttftRuns = int(name, value(), 1); break;
      case '--no-write': f.write = false; break;
      case '--out': {
        const v = value();
        if (!v) throw new BenchUsageError('--out needs a folder');
        f.out = path.resolve(v);
        break;
      }
      default:
        throw new BenchUsageError(`unknown flag ${a}; use --node-only, --browser-only, --reps N, --browser-reps N, --tokens N, --webgpu, --no-webgpu, --ttft-runs N, --no-write, --out DIR`);
    }
  }
  if (f.nodeOnly && f.browserOnly) throw new BenchUsageError('--node-only and --browser-only exclude each other; leave both out to run everything');
  return f;
}

