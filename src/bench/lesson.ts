/**
 * `npm run bench:lesson`: does the flagship lesson land? For seeds s, s+1, …, s+n−1 it samples the
 * flagship prompt once without guidance (base) and once with GenARM (guided), with the same seed and
 * the same sampling settings (src/core/lesson/flagship.ts), on the CLI's Node backend, and prints:
 *
 * - mean oracle positivity (AFINN sum of the generated text) of each side, and the paired difference
 *   guided − base with its 95% paired t interval;
 * - degeneration: the share of samples whose generated tokens repeat a 4-gram 3 or more times;
 * - distinct-2 of the generated tokens (per sample, averaged; as the Compare view shows it).
 *
 *   npm run bench:lesson -- [--seeds N] [--seed S] [--beta B] [--temperature T] [--top-p P] [--min-p P]
 *                           [--max-new-tokens N] [--prompt TEXT] [--arm ID[=W]]... [--show K] [--json]
 *
 * Flags override the flagship's settings (to try other values); `--arm` replaces the flagship's ARM
 * (give it twice for a mix, e.g. `--arm tiny-arm-positive=0.75 --arm tiny-arm-concise=0.25`).
 * This is a measurement, not a test: nothing here is timed or asserted.
 */
import { FLAGSHIP } from '../core/lesson/flagship.ts';
import { degenerationRate, mean, pairedInterval, maxNgramCount, type PairedInterval } from '../core/metrics/lesson.ts';
import { distinctN } from '../core/metrics/diversity.ts';
import { oracleWords, positivity, valence } from '../core/reward/oracle.ts';
import type { GenerationConfig, StrategySpec } from '../core/search/strategy.ts';
import { decode } from '../core/search/strategy.ts';
import type { SequenceResult } from '../core/search/events.ts';
import type { LanguageModel, Tokenizer } from '../core/model/types.ts';

export class LessonUsageError extends Error {
  override name = 'LessonUsageError';
}

export interface LessonSettings {
  readonly prompt: string;
  readonly policy: string;
  /** ARM ids with their weights (the flagship has one, weight 1). */
  readonly arms: readonly { readonly id: string; readonly weight: number }[];
  readonly beta: number;
  readonly config: GenerationConfig;
  /** Seeds seed, seed+1, …, seed+seeds−1; one base and one guided sample each. */
  readonly seeds: number;
  readonly seed: number;
}

/** The flagship's settings as a LessonSettings (the sampling fields it sets, nothing else). */
export function flagshipSettings(seeds = 32): LessonSettings {
  const f: typeof FLAGSHIP & { min_p?: number; no_repeat_ngram_size?: number } = FLAGSHIP;
  return {
    prompt: f.prompt,
    policy: f.policy,
    arms: [{ id: f.arm, weight: 1 }],
    beta: f.beta,
    config: {
      do_sample: true,
      temperature: f.temperature,
      top_k: f.top_k,
      top_p: f.top_p,
      ...(f.min_p !== undefined ? { min_p: f.min_p } : {}),
      repetition_penalty: f.repetition_penalty,
      ...(f.no_repeat_ngram_size !== undefined ? { no_repeat_ngram_size: f.no_repeat_ngram_size } : {}),
      max_new_tokens: f.max_new_tokens,
    },
    seeds,
    seed: f.seed,
  };
}

export interface SideReport {
  readonly texts: readonly string[];
  readonly positivity: readonly number[];
  readonly meanPositivity: number;
  /** Σ positivity / Σ words over all samples: positivity per word, which longer texts do not inflate. */
  readonly positivityPerWord: number;
  readonly meanWords: number;
  /** Share of samples with a 4-gram (of generated tokens) occurring 3 or more times. */
  readonly degeneration: number;
  /** Mean over samples of distinct-2 of the generated tokens. */
  readonly distinct2: number;
  readonly meanTokens: number;
  /** The words that add most positivity over all samples: [word, summed valence, occurrences], largest first. */
  readonly topWords: readonly (readonly [string, number, number])[];
  /** Per sample: occurrences of its most repeated 4-gram of generated tokens. */
  readonly maxFourGram: readonly number[];
}

export interface LessonReport {
  readonly settings: LessonSettings;
  readonly base: SideReport;
  readonly guided: SideReport;
  /** guided − base, paired by seed: the paired t interval. */
  readonly difference: PairedInterval;
  /** Seeds on which the guided sample scored higher / equal / lower than the base one. */
  readonly wins: { readonly guided: number; readonly tie: number; readonly base: number };
}

export interface LessonModels {
  readonly policy: LanguageModel & { readonly tokenizer: Tokenizer };
  readonly arms: readonly LanguageModel[];
}

function withoutEos(seq: SequenceResult, eos: readonly number[]): number[] {
  return seq.tokenIds.filter((t) => !eos.includes(t));
}

async function one(spec: StrategySpec, models: { policy: LanguageModel; arms?: readonly LanguageModel[] }, prompt: readonly number[]): Promise<SequenceResult> {
  let done: readonly SequenceResult[] = [];
  for await (const e of decode(spec, models, prompt)) if (e.type === 'done') done = e.sequences;
  const s = done[0];
  if (!s) throw new Error('decode returned no sequence');
  return s;
}

/** Words by their summed valence over all texts (positive contributions only), largest first. */
export function topWords(texts: readonly string[], k: number): [string, number, number][] {
  const by = new Map<string, [number, number]>();
  for (const t of texts) {
    for (const w of oracleWords(t)) {
      const v = valence(w);
      if (v <= 0) continue;
      const e = by.get(w) ?? [0, 0];
      e[0] += v;
      e[1]++;
      by.set(w, e);
    }
  }
  return [...by.entries()].map(([w, [v, n]]): [string, number, number] => [w, v, n]).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, k);
}

function side(seqs: readonly SequenceResult[], models: LessonModels): SideReport {
  const eos = models.policy.eosTokenIds;
  const toks = seqs.map((s) => withoutEos(s, eos));
  const texts = toks.map((t) => models.policy.tokenizer.decode(t));
  const pos = texts.map(positivity);
  const words = texts.map((t) => oracleWords(t).length);
  return {
    texts,
    positivity: pos,
    meanPositivity: mean(pos),
    positivityPerWord: pos.reduce((a, b) => a + b, 0) / Math.max(1, words.reduce((a, b) => a + b, 0)),
    meanWords: mean(words),
    degeneration: degenerationRate(toks, 4, 3),
    distinct2: mean(toks.map((t) => distinctN([t], 2))),
    meanTokens: mean(toks.map((t) => t.length)),
    topWords: topWords(texts, 6),
    maxFourGram: toks.map((t) => maxNgramCount(t, 4)),
  };
}

/** Draws the base and guided samples and computes the report. */
export async function measureLesson(settings: LessonSettings, models: LessonModels, onSeed?: (done: number, of: number) => void): Promise<LessonReport> {
  if (!Number.isInteger(settings.seeds) || settings.seeds < 2) throw new LessonUsageError(`--seeds needs an integer >= 2 (got ${settings.seeds})`);
  const prompt = models.policy.tokenizer.encode(settings.prompt);
  const base: SequenceResult[] = [];
  const guided: SequenceResult[] = [];
  for (let i = 0; i < settings.seeds; i++) {
    const config = { ...settings.config, seed: settings.seed + i };
    base.push(await one({ strategy: 'sample', config, traceTopK: 0 }, { policy: models.policy }, prompt));
    guided.push(
      await one(
        { strategy: 'genarm', config: { ...config, do_sample: true }, beta: settings.beta, armWeights: settings.arms.map((a) => a.weight), traceTopK: 0 },
        { policy: models.policy, arms: models.arms },
        prompt,
      ),
    );
    onSeed?.(i + 1, settings.seeds);
  }
  const b = side(base, models);
  const g = side(guided, models);
  const wins = { guided: 0, tie: 0, base: 0 };
  g.positivity.forEach((x, i) => {
    const y = b.positivity[i] as number;
    if (x > y) wins.guided++;
    else if (x < y) wins.base++;
    else wins.tie++;
  });
  return { settings, base: b, guided: g, difference: pairedInterval(g.positivity, b.positivity, 0.95), wins };
}

const f2 = (x: number) => x.toFixed(2);
const words = (side: SideReport) => side.topWords.map(([w, v, n]) => `${w} +${v} (×${n})`).join(', ') || 'none';
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

/** The report as the plain text `npm run bench:lesson` prints. */
export function formatLesson(r: LessonReport, show = 3): string {
  const s = r.settings;
  const c = s.config;
  const d = r.difference;
  const knobs = [`T ${c.temperature ?? 1}`, `top_k ${c.top_k ?? 50}`, `top_p ${c.top_p ?? 1}`, ...(c.min_p ? [`min_p ${c.min_p}`] : []), ...(c.repetition_penalty ? [`repetition_penalty ${c.repetition_penalty}`] : []), ...(c.no_repeat_ngram_size ? [`no_repeat_ngram_size ${c.no_repeat_ngram_size}`] : []), `max_new_tokens ${c.max_new_tokens}`];
  const arms = s.arms.map((a) => (a.weight === 1 ? a.id : `${a.id}×${a.weight}`)).join(' + ');
  const lines = [
    `Prompt "${s.prompt}", policy ${s.policy}, ${s.seeds} seeds (${s.seed}..${s.seed + s.seeds - 1}), ${knobs.join(', ')}`,
    `Guided: GenARM with ${arms}, β ${s.beta}`,
    '',
    '                 base    guided',
    `positivity     ${f2(r.base.meanPositivity).padStart(6)}    ${f2(r.guided.meanPositivity).padStart(6)}   (mean AFINN sum of the generated text)`,
    `degenerate     ${pct(r.base.degeneration).padStart(6)}    ${pct(r.guided.degeneration).padStart(6)}   (share of samples repeating a 4-gram ≥ 3 times)`,
    `distinct-2     ${f2(r.base.distinct2).padStart(6)}    ${f2(r.guided.distinct2).padStart(6)}   (of generated tokens; per sample, mean)`,
    `per word       ${r.base.positivityPerWord.toFixed(3).padStart(6)}    ${r.guided.positivityPerWord.toFixed(3).padStart(6)}   (Σ positivity / Σ words: not inflated by length)`,
    `words          ${r.base.meanWords.toFixed(1).padStart(6)}    ${r.guided.meanWords.toFixed(1).padStart(6)}   (mean words of generated text)`,
    `tokens         ${r.base.meanTokens.toFixed(1).padStart(6)}    ${r.guided.meanTokens.toFixed(1).padStart(6)}   (mean generated tokens)`,
    '',
    `guided − base: ${f2(d.mean)} AFINN points, 95% paired t interval [${f2(d.lo)}, ${f2(d.hi)}] (sd ${f2(d.sd)}, n ${d.n}, t ${d.t.toFixed(3)})`,
    `per seed: guided higher ${r.wins.guided}, equal ${r.wins.tie}, base higher ${r.wins.base}`,
    `words adding most positivity (Σ valence × count): base ${words(r.base)}; guided ${words(r.guided)}`,
  ];
  if (show > 0) {
    lines.push('');
    for (let i = 0; i < Math.min(show, s.seeds); i++) {
      lines.push(`seed ${s.seed + i} base   (${r.base.positivity[i]}): ${s.prompt}${r.base.texts[i]}`);
      lines.push(`seed ${s.seed + i} guided (${r.guided.positivity[i]}): ${s.prompt}${r.guided.texts[i]}`);
    }
  }
  return lines.join('\n');
}

export interface LessonFlags {
  settings: LessonSettings;
  json: boolean;
  show: number;
}

/** Parses the flags in the header comment; anything else is a LessonUsageError naming the flag. */
export function parseLessonFlags(argv: readonly string[]): LessonFlags {
  const base = flagshipSettings();
  const config: { -readonly [K in keyof GenerationConfig]: GenerationConfig[K] } = { ...base.config };
  let s: { -readonly [K in keyof LessonSettings]: LessonSettings[K] } = { ...base, config };
  const arms: { id: string; weight: number }[] = [];
  let json = false;
  let show = 3;
  const num = (name: string, v: string | undefined, check: (n: number) => boolean, what: string) => {
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(n) || !check(n)) throw new LessonUsageError(`${name} needs ${what} (got ${v === undefined ? 'nothing' : JSON.stringify(v)})`);
    return n;
  };
  const int = (n: number) => Number.isInteger(n);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (name) {
      case '--json': json = true; break;
      case '--seeds': s.seeds = num(name, value(), (n) => int(n) && n >= 2, 'an integer >= 2'); break;
      case '--seed': s.seed = num(name, value(), (n) => int(n) && n >= 0, 'an integer >= 0'); break;
      case '--beta': s.beta = num(name, value(), (n) => n > 0, 'a number > 0'); break;
      case '--temperature': config.temperature = num(name, value(), (n) => n > 0, 'a number > 0'); break;
      case '--top-p': config.top_p = num(name, value(), (n) => n > 0 && n <= 1, 'a number in (0, 1]'); break;
      case '--top-k': config.top_k = num(name, value(), (n) => int(n) && n >= 0, 'an integer >= 0'); break;
      case '--min-p': config.min_p = num(name, value(), (n) => n >= 0 && n <= 1, 'a number in [0, 1]'); break;
      case '--repetition-penalty': config.repetition_penalty = num(name, value(), (n) => n > 0, 'a number > 0'); break;
      case '--no-repeat-ngram-size': config.no_repeat_ngram_size = num(name, value(), (n) => int(n) && n >= 0, 'an integer >= 0'); break;
      case '--max-new-tokens': config.max_new_tokens = num(name, value(), (n) => int(n) && n >= 1, 'an integer >= 1'); break;
      case '--show': show = num(name, value(), (n) => int(n) && n >= 0, 'an integer >= 0'); break;
      case '--prompt': {
        const v = value();
        if (!v) throw new LessonUsageError('--prompt needs some text to continue');
        s.prompt = v;
        break;
      }
      case '--arm': {
        const v = value();
        if (!v) throw new LessonUsageError('--arm needs a bundled ARM id, optionally with =WEIGHT (e.g. tiny-arm-positive=0.75)');
        const [id, w] = v.includes('=') ? [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)] : [v, '1'];
        arms.push({ id: id as string, weight: num('--arm weight', w, Number.isFinite, 'a finite number') });
        break;
      }
      default:
        throw new LessonUsageError(`unknown flag ${JSON.stringify(a)}; use --seeds, --seed, --beta, --temperature, --top-p, --top-k, --min-p, --repetition-penalty, --no-repeat-ngram-size, --max-new-tokens, --prompt, --arm, --show, --json`);
    }
  }
  if (arms.length) s = { ...s, arms };
  return { settings: s, json, show };
}

async function main(argv: readonly string[]): Promise<number> {
  let flags: LessonFlags;
  try {
    flags = parseLessonFlags(argv);
  } catch (e) {
    if (e instanceof LessonUsageError) {
      process.stderr.write(`bench:lesson: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  // Imported here so the module can be used (tests, other scripts) without onnxruntime-node.
  const { lm, resolveModel, assertSameTokenizer } = await import('../cli/nodeModels.ts');
  const s = flags.settings;
  let policyId: string;
  let armIds: string[];
  try {
    policyId = resolveModel(s.policy, '--policy');
    armIds = s.arms.map((a) => resolveModel(a.id, '--arm'));
    assertSameTokenizer(policyId, armIds.map((id) => ({ id, flag: '--arm' })));
  } catch (e) {
    process.stderr.write(`bench:lesson: ${(e as Error).message}\n`);
    return 2;
  }
  const models = { policy: await lm(policyId), arms: await Promise.all(armIds.map((id) => lm(id))) };
  const t0 = performance.now();
  const report = await measureLesson(s, models, (k, n) => {
    if (!flags.json && (k % 8 === 0 || k === n)) process.stderr.write(`seed ${k}/${n}\n`);
  });
  const seconds = (performance.now() - t0) / 1000;
  if (flags.json) {
    process.stdout.write(JSON.stringify({ ...report, seconds }, null, 1) + '\n');
  } else {
    process.stdout.write(formatLesson(report, flags.show) + `\n\n(${seconds.toFixed(1)} s)\n`);
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
