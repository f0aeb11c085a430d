/**
 * `decoding-lab candidates`: k candidate responses per prompt (nc_sample, diverse_beam or sample)
 * with the set's diversity, as JSONL: one line per prompt (core/search/candidates.ts CandidateLine).
 * Prompts come from --prompt TEXT or --prompts FILE (.txt: one per non-empty line; .jsonl/.json: one
 * JSON object per line with a "prompt" string, or a list of chat messages whose last user turn is
 * taken). Bad input is a UsageError (exit 2) naming the file, line or field.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CANDIDATE_METHODS, candidateLine, generateCandidates, type CandidateLine, type CandidateMethod } from '../core/search/candidates.ts';
import { generationConfig, required, UsageError, type Parsed } from './args.ts';
import { fileDefaults, lm, resolveModel } from './nodeModels.ts';

/** The prompts of a --prompts file. */
export function readPrompts(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--prompts ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const lines = text.split(/\r?\n/);
  const out: string[] = [];
  if (/\.jsonl?$/i.test(file)) {
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new UsageError(`--prompts ${file} line ${i + 1}: not valid JSON`);
      }
      const p = (row as { prompt?: unknown } | null)?.prompt;
      if (typeof p === 'string' && p.trim() !== '') return void out.push(p);
      if (Array.isArray(p)) {
        const user = [...p].reverse().find((m) => (m as { role?: unknown })?.role === 'user') as { content?: unknown } | undefined;
        if (typeof user?.content === 'string' && user.content.trim() !== '') return void out.push(user.content);
      }
      throw new UsageError(`--prompts ${file} line ${i + 1}: needs a "prompt" field holding a non-empty string (or chat messages with a user turn)`);
    });
  } else {
    for (const line of lines) if (line.trim() !== '') out.push(line);
  }
  if (out.length === 0) throw new UsageError(`--prompts ${file}: no prompts in it`);
  return out;
}

export async function candidates(p: Parsed, warn: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<CandidateLine[]> {
  const policyId = resolveModel(required(p, 'policy', 'give a bundled model id (e.g. tiny-base) or a model folder'), '--policy');
  if (typeof p.prompt === 'string' && typeof p.prompts === 'string') throw new UsageError('give either --prompt TEXT or --prompts FILE, not both');
  if (typeof p.prompt !== 'string' && typeof p.prompts !== 'string') throw new UsageError('--prompt TEXT or --prompts FILE is required (a .txt with one prompt per line, or JSONL with a "prompt" field)');
  const method = (p.method as string | undefined) ?? 'nc_sample';
  if (!(CANDIDATE_METHODS as readonly string[]).includes(method)) throw new UsageError(`--method must be one of ${CANDIDATE_METHODS.join(', ')} (got "${method}")`);
  const k = (p.k as number | undefined) ?? 4;
  if (k < 1) throw new UsageError(`--k must be an integer >= 1 (got ${k})`);
  if (p.num_return_sequences !== undefined || p.num_beams !== undefined) throw new UsageError('--k sets the number of candidates (num_return_sequences and num_beams follow it): drop --num_return_sequences/--num_beams');
  const seed = (p.seed as number | undefined) ?? 0;
  const prompts = typeof p.prompts === 'string' ? readPrompts(p.prompts) : [p.prompt as string];
  const policy = await lm(policyId);
  let config = generationConfig(p);
  const fromFile = fileDefaults(method === 'diverse_beam' ? 'diverse_beam' : 'sample', config as Record<string, unknown>, policy.generationDefaults);
  if (Object.keys(fromFile).length) {
    config = { ...fromFile, ...config };
    warn(`decoding-lab: note: from ${policyId}'s generation_config.json: ${Object.entries(fromFile).map(([key, v]) => `${key} ${v}`).join(', ')} (give a value to override)`);
  }
  const bos = p.add_bos === false ? undefined : policy.tokenizer.bosTokenId;
  const out: CandidateLine[] = [];
  for (const prompt of prompts) {
    const promptIds = [...(bos !== undefined ? [bos] : []), ...policy.tokenizer.encode(prompt)];
    const set = await generateCandidates({
      policy,
      tokenizer: policy.tokenizer,
      promptIds,
      method: method as CandidateMethod,
      k,
      seed,
      options: { config, ncPenalty: p.nc_penalty as number | undefined, ncNgram: p.nc_ngram as number | undefined, distributionDistance: p.distribution_distance === true },
    });
    out.push(candidateLine(prompt, set));
  }
  return out;
}

/** Runs the command: JSONL to --out FILE, or to stdout. */
export async function candidatesCommand(p: Parsed): Promise<void> {
  const lines = await candidates(p);
  const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
  if (typeof p.out === 'string') {
    try {
      writeFileSync(p.out, text);
    } catch (e) {
      throw new UsageError(`--out ${p.out}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  } else process.stdout.write(text);
}
