/**
 * Command-line parsing for `decoding-lab`. Options use the Hugging Face generation_config names and
 * accept both spellings (`--num_beams 4`, `--num-beams=4`); `--config file.json` reads the same
 * names from a file (command-line values win). Every problem becomes a UsageError (exit code 2).
 */
import { readFileSync } from 'node:fs';
import type { GenerationConfig, StrategyName } from '../core/search/strategy.ts';
import { STRATEGIES } from '../core/search/strategy.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

type Kind = 'int' | 'float' | 'bool' | 'string' | 'early' | 'list';

/** Every option, by canonical (underscore) name. */
const OPTIONS: Record<string, Kind> = {
  policy: 'string', prompt: 'string', strategy: 'string', json: 'bool', config: 'string',
  max_new_tokens: 'int', do_sample: 'bool', temperature: 'float', top_k: 'int', top_p: 'float', min_p: 'float',
  repetition_penalty: 'float', no_repeat_ngram_size: 'int', min_new_tokens: 'int', num_beams: 'int', num_beam_groups: 'int',
  diversity_penalty: 'float', length_penalty: 'float', early_stopping: 'early', num_return_sequences: 'int', seed: 'int',
  arm: 'list', beta: 'float', guidance_beta: 'float', tuned: 'string', ref: 'string', reward_model: 'string', args_k: 'int', args_weight: 'float',
  n: 'int', rso_beta: 'float', dataset: 'string', scorer: 'string', length_normalize: 'bool', limit: 'int', device: 'string',
  repeats: 'int', alpha: 'float', batch_size: 'int',
  chat_template: 'bool', token_scores: 'bool', append_eos: 'bool', add_bos: 'bool', ece_bins: 'int', // rank
  dtype: 'string', reward_label: 'string', // models (nodeModels.ts configureModels)
  shape: 'string', // bench --shape NAME (realistic-shape run)
  prompts: 'string', method: 'string', k: 'int', out: 'string', nc_penalty: 'float', nc_ngram: 'int', distribution_distance: 'bool', // candidates
  reward_weight: 'float', rescore_every: 'string', rm_candidates: 'int', // reward-guided beam search (rescoreEvery below)
};

export type Parsed = Record<string, string | number | boolean | string[]>;

function convert(name: string, kind: Kind, raw: unknown, where: string): string | number | boolean {
  const s = String(raw).trim();
  switch (kind) {
    case 'int': {
      const v = typeof raw === 'number' ? raw : Number(s);
      if (!Number.isInteger(v)) throw new UsageError(`${where}--${name} must be an integer (got "${s}")`);
      return v;
    }
    case 'float': {
      const v = typeof raw === 'number' ? raw : Number(s);
      if (s === '' || !Number.isFinite(v)) throw new UsageError(`${where}--${name} must be a number (got "${s}")`);
      return v;
    }
    case 'bool':
      if (raw === true || s === 'true' || s === '1') return true;
      if (raw === false || s === 'false' || s === '0') return false;
      throw new UsageError(`${where}--${name} must be true or false (got "${s}")`);
    case 'early':
      if (raw === true || s === 'true') return true;
      if (raw === false || s === 'false') return false;
      if (s === 'never') return 'never';
      throw new UsageError(`${where}--${name} must be true, false or never (got "${s}")`);
    default:
      return s;
  }
}

/** Parses `argv` (after the subcommand). */
export function parseArgs(argv: readonly string[]): Parsed {
  const out: Parsed = {};
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i] as string;
    if (!tok.startsWith('--')) throw new UsageError(`unexpected argument "${tok}"; options look like --name VALUE`);
    const eq = tok.indexOf('=');
    const rawName = tok.slice(2, eq < 0 ? undefined : eq);
    const name = rawName.replaceAll('-', '_');
    const kind = OPTIONS[name];
    if (!kind) throw new UsageError(`unknown option --${rawName}; run decoding-lab --help for the list`);
    let value: string | undefined = eq < 0 ? undefined : tok.slice(eq + 1);
    if (value === undefined) {
      const next = argv[i + 1];
      const isFlag = kind === 'bool' && (next === undefined || next.startsWith('--') || !['true', 'false', '0', '1'].includes(next));
      if (isFlag) value = 'true';
      else {
        if (next === undefined) throw new UsageError(`--${rawName} needs a value`);
        value = next;
        i++;
      }
    }
    if (kind === 'list') ((out[name] ??= []) as string[]).push(value);
    else out[name] = convert(name, kind, value, '');
  }
  if (typeof out.config === 'string') {
    let file: Record<string, unknown>;
    try {
      file = JSON.parse(readFileSync(out.config, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`--config ${out.config}: ${(e as Error).message}`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new UsageError(`--config ${out.config}: expected a JSON object of generation_config names`);
    for (const [k, v] of Object.entries(file)) {
      const name = k.replaceAll('-', '_');
      const kind = OPTIONS[name];
      if (!kind || kind === 'list') throw new UsageError(`--config ${out.config}: unknown field "${k}"`);
      if (!(name in out) && v !== null) out[name] = convert(name, kind, v, `--config ${out.config}: `);
    }
  }
  return out;
}

const GEN_KEYS = [
  'max_new_tokens', 'min_new_tokens', 'do_sample', 'temperature', 'top_k', 'top_p', 'min_p', 'repetition_penalty', 'no_repeat_ngram_size',
  'num_beams', 'num_beam_groups', 'diversity_penalty', 'length_penalty', 'early_stopping', 'num_return_sequences', 'seed',
] as const;

export function generationConfig(p: Parsed): GenerationConfig {
  const c: Record<string, unknown> = {};
  for (const k of GEN_KEYS) if (k in p) c[k] = p[k];
  return c as GenerationConfig;
}

export function strategyOf(p: Parsed): StrategyName {
  const s = (p.strategy as string | undefined) ?? 'greedy';
  if (!(STRATEGIES as readonly string[]).includes(s)) throw new UsageError(`--strategy must be one of ${STRATEGIES.join(', ')} (got "${s}")`);
  return s as StrategyName;
}

/** `--arm M[=WEIGHT]`: the weight is the part after the last "=" when it is a number. */
export function parseArm(spec: string): { model: string; weight: number } {
  const eq = spec.lastIndexOf('=');
  if (eq > 0) {
    const w = Number(spec.slice(eq + 1));
    if (spec.slice(eq + 1).trim() !== '' && Number.isFinite(w)) return { model: spec.slice(0, eq), weight: w };
    throw new UsageError(`--arm ${spec}: the weight after "=" must be a number`);
  }
  return { model: spec, weight: 1 };
}

export function required(p: Parsed, name: string, hint: string): string {
  const v = p[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name.replaceAll('_', '-')} is required: ${hint}`);
  return v;
}

/**
 * `--rescore_every K` (reward-guided beam search): an integer >= 0, or "end" (= 0: the reward model
 * scores a hypothesis only when it finishes). Undefined when not given.
 */
export function rescoreEvery(p: Parsed): number | undefined {
  const v = p.rescore_every;
  if (v === undefined) return undefined;
  const s = String(v).trim();
  if (s === 'end') return 0;
  const k = Number(s);
  if (s === '' || !Number.isInteger(k) || k < 0) throw new UsageError(`--rescore_every must be an integer >= 0 or "end" (got "${s}"): 1 rescores every token, 10 every 10 tokens, end only finished hypotheses`);
  return k;
}
