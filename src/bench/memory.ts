/**
 * Memory bench (issue 13 item 3): peak resident memory of `decoding-lab rank --scorer policy` and of a
 * greedy `generate`, each run in a CHILD process (a fresh Node, so one run's heap, ORT arena and
 * garbage never count in another's), on a synthetic dataset of fixed-length prompts and responses.
 * The child prints `process.resourceUsage().maxRSS` at exit (a `--import` hook; nothing in the CLI
 * changes for it), which this module reads back.
 *
 *   npm run bench:memory -- --model bench/shapes/vocab50k [--model DIR ...] [--batches 1,8,16]
 *                           [--budgets default,off] [--prompt-tokens 220] [--response-tokens 30]
 *                           [--pairs 32] [--new-tokens 32] [--no-generate] [--json]
 *
 * `--budgets` lists values of DECODING_LAB_LOGITS_BUDGET for the child: `default` (the adapter's
 * bounded default), `off` (no bound: every forward returns logits for all its positions, the
 * behaviour before the bound existed), or a size such as `8M`.
 *
 * `rankPeakRss` and `generatePeakRss` are exported for other benches (e.g. `bench --shape`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(ROOT, 'bin', 'decoding-lab.mjs');

/** Prints the process's peak RSS (kB) on stderr at exit; loaded into the child with --import. */
const RSS_HOOK =
  'data:text/javascript,' +
  encodeURIComponent('process.on("exit",()=>{try{process.stderr.write("\\n@@maxrss_kb "+process.resourceUsage().maxRSS+"\\n")}catch{}});');

/** Words the synthetic texts are made of (the bench measures memory: the text only needs a known length). */
const WORDS = (
  'the of and to in is was that for on with as by at from his her they this which had are not be have ' +
  'were one all their there been has more when who will would about into time people only other new some ' +
  'could these two may first then any like our over such also after years most made state country world ' +
  'good great long little right small large old young place work life day year way man woman child hand'
).split(' ');

/** A tiny deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/** A text of about `tokens` tokens under `tok` (words drawn from `rand`, cut at the token count). */
export function syntheticText(tok: TextTokenizer, tokens: number, rand: () => number, lead = ''): string {
  let text = lead;
  while (tok.encode(text).length < tokens + 4) text += ' ' + (WORDS[Math.floor(rand() * WORDS.length)] as string);
  return tok.decode(tok.encode(text).slice(0, tokens));
}

/** TRL-shaped pairs (prompt, chosen, rejected) with prompts of ~promptTokens and responses of ~responseTokens tokens. */
export function syntheticPairs(
  tok: TextTokenizer,
  o: { pairs: number; promptTokens: number; responseTokens: number; seed?: number },
): { prompt: string; chosen: string; rejected: string }[] {
  const rand = rng(o.seed ?? 1);
  return Array.from({ length: o.pairs }, () => ({
    prompt: syntheticText(tok, o.promptTokens, rand),
    chosen: syntheticText(tok, o.responseTokens, rand, ' '),
    rejected: syntheticText(tok, o.responseTokens, rand, ' '),
  }));
}

async function tokenizerOf(model: string): Promise<TextTokenizer> {
  await import('../cli/nodeModels.ts'); // sets transformers.js to local folders (bundled ids and absolute paths)
  const { loadTokenizer } = await import('../inference/backends/transformers.ts');
  return loadTokenizer(path.isAbsolute(model) ? model : model.includes('/') ? path.resolve(model) : model);
}

export interface ChildRun {
  peak_rss_mb: number;
  seconds: number;
  /** The command's --json output, parsed (null when it printed none). */
  json: unknown;
}

/** Runs the CLI with `args` in a child Node process; resolves with its peak RSS; rejects on a non-zero exit. */
export function runCliPeakRss(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', RSS_HOOK, CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /@@maxrss_kb (\d+)/.exec(err);
      if (code !== 0 || !m) {
        reject(new Error(`decoding-lab ${args[0]} exited with ${code}: ${err.replace(/@@maxrss_kb \d+/, '').trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      let json: unknown = null;
      try {
        json = JSON.parse(out);
      } catch {
        /* not --json */
      }
      resolve({ peak_rss_mb: Math.round(Number(m[1]) / 1024), seconds: (performance.now() - t0) / 1000, json });
    });
  });
}

export interface RankRssOptions {
  /** A bundled id or a model folder (the policy). */
  model: string;
  batch: number;
  promptTokens?: number;
  responseTokens?: number;
  pairs?: number;
  /** More CLI arguments (e.g. ['--dtype', 'fp16']). */
  extraArgs?: readonly string[];
  /** DECODING_LAB_LOGITS_BUDGET for the child: undefined = the adapter's default, 'off' = unbounded, or a size. */
  logitsBudget?: string;
}

/** Peak RSS of `rank --scorer policy` on a synthetic dataset (see syntheticPairs), in a child process. */
export async function rankPeakRss(o: RankRssOptions): Promise<{ peak_rss_mb: number; seconds: number; n: number }> {
  const model = o.model.includes('/') ? path.resolve(o.model) : o.model;
  const pairs = syntheticPairs(await tokenizerOf(model), {
    pairs: o.pairs ?? 32,
    promptTokens: o.promptTokens ?? 220,
    responseTokens: o.responseTokens ?? 30,
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'dl-memory-'));
  try {
    const file = path.join(dir, 'pairs.jsonl');
    writeFileSync(file, pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
    const r = await runCliPeakRss(
      ['rank', '--dataset', file, '--scorer', 'policy', '--policy', model, '--batch-size', String(o.batch), '--json', ...(o.extraArgs ?? [])],
      budgetEnv(o.logitsBudget),
    );
    return { peak_rss_mb: r.peak_rss_mb, seconds: r.seconds, n: Number((r.json as { n?: number } | null)?.n ?? NaN) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Peak RSS of a greedy `generate` of `newTokens` tokens after a prompt of ~promptTokens, in a child process. */
export async function generatePeakRss(o: {
  model: string;
  promptTokens?: number;
  newTokens?: number;
  extraArgs?: readonly string[];
  logitsBudget?: string;
}): Promise<{ peak_rss_mb: number; seconds: number; tokens: number }> {
  const model = o.model.includes('/') ? path.resolve(o.model) : o.model;
  const prompt = syntheticText(await tokenizerOf(model), o.promptTokens ?? 220, rng(7));
  const n = o.newTokens ?? 32;
  const r = await runCliPeakRss(
    ['generate', '--policy', model, '--prompt', prompt, '--strategy', 'greedy', '--max_new_tokens', String(n), '--json', ...(o.extraArgs ?? [])],
    budgetEnv(o.logitsBudget),
  );
  const seqs = (r.json as { sequences?: { token_ids?: number[] }[] } | null)?.sequences ?? [];
  return { peak_rss_mb: r.peak_rss_mb, seconds: r.seconds, tokens: seqs[0]?.token_ids?.length ?? 0 };
}

function budgetEnv(b: string | undefined): Record<string, string | undefined> {
  // undefined removes an inherited value, so 'default' really is the adapter's default.
  return { DECODING_LAB_LOGITS_BUDGET: b === undefined || b === 'default' ? undefined : b };
}

interface Row {
  model: string;
  budget: string;
  job: string;
  peak_rss_mb: number;
  seconds: number;
}

async function main(argv: string[]): Promise<number> {
  const models: string[] = [];
  let batches = [1, 8, 16];
  let budgets = ['default', 'off'];
  let promptTokens = 220;
  let responseTokens = 30;
  let pairs = 32;
  let newTokens = 32;
  let generate = true;
  let json = false;
  const extra: string[] = [];
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const v = argv[i + 1];
    if (a === '--model') models.push(v ?? ''), i++;
    else if (a === '--batches') (batches = (v ?? '').split(',').map((x) => num('--batches', x))), i++;
    else if (a === '--budgets') (budgets = (v ?? '').split(',').filter(Boolean)), i++;
    else if (a === '--prompt-tokens') (promptTokens = num(a, v)), i++;
    else if (a === '--response-tokens') (responseTokens = num(a, v)), i++;
    else if (a === '--pairs') (pairs = num(a, v)), i++;
    else if (a === '--new-tokens') (newTokens = num(a, v)), i++;
    else if (a === '--no-generate') generate = false;
    else if (a === '--json') json = true;
    else if (a === '--dtype') extra.push(a, v ?? ''), i++;
    else throw new Error(`unknown option ${a}; see src/bench/memory.ts for the options`);
  }
  if (models.length === 0 || models.some((m) => !m)) throw new Error('give a model with --model DIR (e.g. --model bench/shapes/vocab50k, built by models/foundry/shapes.py)');
  const rows: Row[] = [];
  const say = (r: Row) => {
    rows.push(r);
    if (!json) console.log(`${r.model}\t${r.budget}\t${r.job}\t${r.peak_rss_mb} MB\t${r.seconds.toFixed(1)} s`);
  };
  if (!json) console.log('model\tlogits budget\tjob\tpeak RSS\twall');
  for (const model of models) {
    for (const budget of budgets) {
      for (const batch of batches) {
        const r = await rankPeakRss({ model, batch, promptTokens, responseTokens, pairs, extraArgs: extra, logitsBudget: budget });
        say({ model, budget, job: `rank policy batch ${batch} (${r.n} pairs)`, peak_rss_mb: r.peak_rss_mb, seconds: r.seconds });
      }
      if (generate) {
        const g = await generatePeakRss({ model, promptTokens, newTokens, extraArgs: extra, logitsBudget: budget });
        say({ model, budget, job: `generate greedy ${g.tokens} tokens`, peak_rss_mb: g.peak_rss_mb, seconds: g.seconds });
      }
    }
  }
  if (json) console.log(JSON.stringify({ prompt_tokens: promptTokens, response_tokens: responseTokens, pairs, runs: rows }, null, 2));
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error(`bench:memory: ${(e as Error).message}`);
      process.exitCode = 2;
    },
  );
}
