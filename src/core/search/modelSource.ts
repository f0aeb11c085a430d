import type { KvCache, LanguageModel } from '../model/types.ts';
import { logSoftmaxInto, softmaxStats, type SoftmaxStats } from '../math/logits.ts';
import type { NextTokenSource, RowDistribution } from './source.ts';

/** Log-probs are floored here before weighting, so a negative weight never turns -Infinity into +Infinity. */
export const LOGPROB_FLOOR = -1e8;

/** An extra model whose log-probs enter the combined score with a coefficient. */
export interface GuideTerm {
  readonly model: LanguageModel;
  readonly coefficient: number;
}

/** A token-level reward to report, computed from the guide terms' log-probs (same order as terms). */
export interface RewardView {
  readonly key: string;
  compute(termLogprobs: readonly Float32Array[]): Float32Array;
}

export interface Guidance {
  readonly terms: readonly GuideTerm[];
  readonly rewards: readonly RewardView[];
}

/**
 * GenARM (Xu et al. 2025, §1.2 of research/algorithms.md): s(v) = ℓ_base(v) + (1/β)·Σ wᵢ·ℓᵢ(v),
 * β = the guidance strength (`guidance_beta`). Negative weights are allowed (log-probs are floored
 * at LOGPROB_FLOOR first). The reported token reward of each ARM is its log-prob ℓᵢ.
 */
export function genarmGuidance(arms: readonly { model: LanguageModel; weight: number }[], beta: number): Guidance {
  if (!(beta > 0)) throw new RangeError(`guidance_beta must be > 0 (got ${beta})`);
  return {
    terms: arms.map((a) => ({ model: a.model, coefficient: a.weight / beta })),
    rewards: arms.map((a, i) => ({ key: `arm:${a.model.id}`, compute: (lp) => lp[i] as Float32Array })),
  };
}

/**
 * Implicit-reward guidance by a tuned/reference pair (DPO, EFT; §5.1): with the implicit reward
 * r(v) = β_r·(ℓ_tuned(v) − ℓ_ref(v)) (β_r = DPO's β, `rewardBeta`), s(v) = ℓ_base(v) + (1/β_g)·r(v)
 * (β_g = the guidance strength, `guidanceBeta`). The reported token reward is r(v).
 */
export function implicitGuidance(tuned: LanguageModel, ref: LanguageModel, guidanceBeta: number, rewardBeta = 1): Guidance {
  if (!(guidanceBeta > 0)) throw new RangeError(`guidance_beta must be > 0 (got ${guidanceBeta})`);
  if (!(rewardBeta > 0)) throw new RangeError(`beta must be > 0 (got ${rewardBeta})`);
  // rewardBeta / guidanceBeta, written so the old reading (rewardBeta 1) keeps its exact float 1/β.
  const c = rewardBeta === 1 ? 1 / guidanceBeta : rewardBeta / guidanceBeta;
  return {
    terms: [
      { model: tuned, coefficient: c },
      { model: ref, coefficient: -c },
    ],
    rewards: [
      {
        key: `implicit:${tuned.id}`,
        compute: (lp) => {
          const t = lp[0] as Float32Array;
          const r = lp[1] as Float32Array;
          const out = new Float32Array(t.length);
          for (let i = 0; i < t.length; i++) out[i] = rewardBeta * ((t[i] as number) - (r[i] as number));
          return out;
        },
      },
    ],
  };
}

/** Refuses models whose vocabularies differ from the policy's, naming both. */
export function assertSameVocabulary(policy: LanguageModel, others: readonly LanguageModel[]): void {
  for (const m of others) {
    if (m.vocabSize !== policy.vocabSize) {
      throw new Error(
        `${m.id} has a vocabulary of ${m.vocabSize} tokens but the policy ${policy.id} has ${policy.vocabSize}: guidance needs models that share one tokenizer.`,
      );
    }
  }
}

/**
 * A NextTokenSource over a policy and optional guidance. Each distinct model runs once per step
 * (a model used twice, e.g. base = reference, is computed once), all rows as one batch.
 */
export class ModelSource implements NextTokenSource {
  readonly vocabSize: number;
  readonly eosTokenIds: readonly number[];
  readonly contextLength: number;
  private readonly models: LanguageModel[];
  private caches: (KvCache | null)[];
  private step = 0;

  constructor(
    private readonly policy: LanguageModel,
    private readonly guidance: Guidance = { terms: [], rewards: [] },
    /**
     * The tokenizer's vocabulary size when the logit rows are wider (padded vocabularies): guided
     * scores of ids at or above it are masked (-Infinity), as GenARM's reference does; a padding
     * id's log-prob under an ARM or tuned model means nothing, and weighting it could make it win.
     */
    private readonly tokenizerSize?: number,
  ) {
    if (tokenizerSize !== undefined && !(Number.isInteger(tokenizerSize) && tokenizerSize >= 1)) throw new RangeError(`tokenizerSize must be an integer >= 1 (got ${tokenizerSize})`);
    assertSameVocabulary(policy, guidance.terms.map((t) => t.model));
    this.models = [policy];
    for (const t of guidance.terms) if (!this.models.includes(t.model)) this.models.push(t.model);
    this.caches = this.models.map(() => null);
    this.vocabSize = policy.vocabSize;
    this.eosTokenIds = policy.eosTokenIds;
    this.contextLength = Math.min(...this.models.map((m) => m.contextLength));
  }

  async start(prompt: readonly number[], rows: number): Promise<RowDistribution[]> {
    if (prompt.length === 0) throw new Error('The prompt has no tokens.');
    this.dispose();
    this.step = 0;
    const logits: Float32Array[][] = [];
    for (let m = 0; m < this.models.length; m++) {
      const model = this.models[m] as LanguageModel;
      const r = await model.prefill([prompt]);
      let cache = r.cache;
      if (rows > 1) {
        const tiled = await cache.select(new Int32Array(rows));
        cache.dispose();
        cache = tiled;
      }
      this.caches[m] = cache;
      logits.push(Array.from({ length: rows }, () => r.logits[0] as Float32Array));
    }
    return this.combine(logits, rows);
  }

  async advance(parents: Int32Array | null, tokens: Int32Array): Promise<RowDistribution[]> {
    const logits: Float32Array[][] = [];
    this.step++;
    for (let m = 0; m < this.models.length; m++) {
      let cache = this.caches[m];
      if (!cache) throw new Error('advance() before start()');
      if (parents && !isIdentity(parents, cache.rows)) {
        if (cache.reorder && parents.length === cache.rows) {
          cache = await cache.reorder(parents); // consumes the old cache (a refused reorder leaves it in this.caches for dispose)
        } else {
          const sel = await cache.select(parents);
          cache.dispose();
          cache = sel;
        }
      }
      this.caches[m] = null; // step consumes it
      const r = await (this.models[m] as LanguageModel).step(cache, tokens);
      this.caches[m] = r.cache;
      logits.push(r.logits);
    }
    return this.combine(logits, tokens.length);
  }

  private combine(logits: Float32Array[][], rows: number): RowDistribution[] {
    const { terms, rewards } = this.guidance;
    const out: RowDistribution[] = [];
    for (let r = 0; r < rows; r++) {
      // Each model's row is read twice (max, Σ exp) and its log-softmax written only when asked for.
      const lps = this.models.map((model, m) => {
        const row = (logits[m] as Float32Array[])[r] as Float32Array;
        const stats = softmaxStats(row);
        if (!stats.valid) throw new Error(`${model.id} produced NaN or +Infinity logits at step ${this.step}; the run was stopped.`);
        return new LogSoftmaxRow(row, stats);
      });
      const policy = lps[0] as LogSoftmaxRow;
      if (terms.length === 0) {
        out.push(new Row(policy, policy, NO_REWARDS, false));
        continue;
      }
      // A term's log-probs are built once: they are its token reward (rewards) and enter the combination.
      const termLps = terms.map((t) => (lps[this.models.indexOf(t.model)] as LogSoftmaxRow).values);
      // Terms on one model (e.g. tuned = ref) enter once with their summed coefficient, so a pair
      // that cancels adds exactly nothing instead of float rounding.
      const parts: { lp: Float32Array; c: number }[] = [];
      terms.forEach((t, j) => {
        if (terms.findIndex((u) => u.model === t.model) !== j) return;
        let c = 0;
        for (const u of terms) if (u.model === t.model) c += u.coefficient;
        if (c !== 0) parts.push({ lp: termLps[j] as Float32Array, c });
      });
      const V = policy.raw.length;
      const end = this.tokenizerSize === undefined ? V : Math.min(this.tokenizerSize, V);
      const scores = new Float32Array(V);
      // scores[v] = f32(f32(policy[v] + c₁·max(ℓ₁[v], floor)) + c₂·…), in the order of the terms.
      policy.writeInto(scores, end);
      for (const { lp, c } of parts) for (let v = 0; v < end; v++) scores[v] = (scores[v] as number) + c * Math.max(lp[v] as number, LOGPROB_FLOOR);
      if (end < V) scores.fill(-Infinity, end);
      const combined = new LogSoftmaxRow(scores, softmaxStats(scores));
      const rewardMap = new Map(rewards.map((rv) => [rv.key, rv.compute(termLps)]));
      out.push(new Row(policy, combined, rewardMap, true));
    }
    return out;
  }

  dispose(): void {
    for (const c of this.caches) c?.dispose();
    this.caches = this.models.map(() => null);
  }
}

function isIdentity(p: Int32Array, rows: number): boolean {
  if (p.length !== rows) return false;
  for (let i = 0; i < p.length; i++) if (p[i] !== i) return false;
  return true;
}

/**
 * log_softmax of one logits row, kept as the row and its softmax stats: one value costs one
 * subtraction, the whole array is written on first read. Values equal logSoftmaxInto's bit for bit.
 */
class LogSoftmaxRow {
  private built: Float32Array | null = null;
  constructor(
    readonly raw: Float32Array,
    private readonly stats: SoftmaxStats,
  ) {}
  at(v: number): number {
    if (this.built) return this.built[v] as number;
    if (!this.stats.finite) return this.values[v] as number;
    return Math.fround((this.raw[v] as number) - this.stats.max - this.stats.logSum);
  }
  get values(): Float32Array {
    if (!this.built) {
      const out = new Float32Array(this.raw.length);
      this.writeInto(out, out.length);
      this.built = out;
    }
    return this.built;
  }
  /** out[offset + v] = f32(log_softmax(raw)[v] + add): what addRowScore gives on `values`, bit for bit. */
  addInto(out: Float32Array, offset: number, add: number): void {
    const n = this.raw.length;
    if (this.built || !this.stats.finite) {
      const lp = this.values;
      for (let v = 0; v < n; v++) out[offset + v] = (lp[v] as number) + add;
      return;
    }
    const { max, logSum } = this.stats;
    const x = this.raw;
    for (let v = 0; v < n; v++) out[offset + v] = Math.fround((x[v] as number) - max - logSum) + add;
  }
  /** out[v] = log_softmax(raw)[v] for v < n. */
  writeInto(out: Float32Array, n: number): void {
    if (this.built) {
      out.set(n === this.built.length ? this.built : this.built.subarray(0, n));
      return;
    }
    if (!this.stats.finite) {
      out.set(logSoftmaxInto(this.raw, new Float32Array(this.raw.length)).subarray(0, n));
      return;
    }
    const { max, logSum } = this.stats;
    const x = this.raw;
    for (let v = 0; v < n; v++) out[v] = (x[v] as number) - max - logSum;
  }
}

const NO_REWARDS: ReadonlyMap<string, Float32Array> = new Map();

/** One row: the policy's log-softmax `p` and the distribution decoded from `c` (the same object unguided). */
class Row implements RowDistribution {
  constructor(
    private readonly p: LogSoftmaxRow,
    private readonly c: LogSoftmaxRow,
    readonly rewards: ReadonlyMap<string, Float32Array>,
    readonly guided: boolean,
  ) {}
  get scores(): Float32Array {
    return this.c.raw;
  }
  get policyLogits(): Float32Array | undefined {
    return this.guided ? this.p.raw : undefined;
  }
  get policy(): Float32Array {
    return this.p.values;
  }
  get logprobs(): Float32Array {
    return this.c.values;
  }
  policyAt(v: number): number {
    return this.p.at(v);
  }
  logprobAt(v: number): number {
    return this.c.at(v);
  }
  addLogprobsInto(out: Float32Array, offset: number, add: number): void {
    this.c.addInto(out, offset, add);
  }
}
