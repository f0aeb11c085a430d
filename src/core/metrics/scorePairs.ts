/**
 * Scores preference pairs with a policy, a tuned/reference pair, an ARM or a sequence reward model
 * (DESIGN §4 `rank`): prompt and response are tokenized separately with no special tokens and the
 * ids concatenated; a response's score uses only its own tokens. Two documented switches add special
 * tokens the way the papers' code does (README "What each number means"): `addBos` prepends the
 * tokenizer's BOS where its own rules add one (Hugging Face `add_special_tokens`; Chen et al.'s code
 * prepends BOS), and `appendEos` appends EOS to each finished response (RewardBench's DPO scorer and
 * the bundled ARM/DPO training do), on by default for the token-level scorers. A response counts as
 * finished unless its record says `chosen_finished: false` / `rejected_finished: false` (the bundled
 * splits mark responses cut at the sampling limit so). An appended EOS is one of the response's tokens:
 * its log-prob is in the sum and in the token count. When prompt + response exceed the
 * context, the prompt is cut from the left so the longer response fits (counted as truncated); a
 * pair whose longer response leaves no room for a prompt token is skipped. An empty response scores
 * 0 (an empty sum; also its mean under length normalisation).
 *
 * Pairs are batched, and each pair's prompt is run once and shared by its two responses (KV reuse):
 * per batch and model, the B prompts are prefilled together, the cache rows are tiled with
 * `KvCache.select` ([0,0,1,1,…], or the rows of one extend batch), and `LanguageModel.extend`
 * scores the responses against their prompt's cached keys and values. The first response token's
 * log-prob comes from the prefill's last-position logits. A model without `extend` (or
 * `sharePrompts: false`) scores the full prompt + response sequences instead (`score`), which
 * gives the same numbers to float tolerance. The sequence reward model always sees full sequences
 * (its scalar needs them).
 *
 * Padding is most of the cost of a batch on a CPU, so pairs are regrouped by length inside windows
 * of `sortWindow` pairs (prefill batches by prompt or response length, whichever a padded-positions
 * cost model prefers; responses of one prefill batch split into extend batches of similar length,
 * see planGroups). Grouping changes no score; results always come back in dataset order.
 */
import type { LanguageModel, SequenceRewardModel, Tokenizer } from '../model/types.ts';
import type { PreferencePair } from '../data/preferences.ts';
import { ChatTemplateError } from '../data/chatTemplate.ts';
import type { AbortSignalLike } from '../search/abort.ts';
import { logSumExpFast as logSumExp } from '../math/logSumExpFast.ts';

export type ScorerKind = 'policy' | 'implicit' | 'arm' | 'sequence';
export const SCORERS: readonly ScorerKind[] = ['policy', 'implicit', 'arm', 'sequence'];

export interface ScorerModels {
  readonly policy?: LanguageModel;
  readonly tuned?: LanguageModel;
  readonly ref?: LanguageModel;
  readonly arm?: LanguageModel;
  readonly rewardModel?: SequenceRewardModel;
}

export interface ScoreOptions extends TokenizationOptions {
  /**
   * Mean instead of summed log-prob (policy and arm scorers; Chen's R̃). The policy's and the
   * reference's log-probs kept for R and R* are then means too (R̃ pairs with R̃*).
   */
  readonly lengthNormalize?: boolean;
  /** β of the implicit reward β·(log π_tuned − log π_ref). @default 1 */
  readonly beta?: number;
  /** Pairs per batch. @default 8 */
  readonly batchSize?: number;
  /**
   * Run each prompt once for both responses (`LanguageModel.extend`) when the model supports it.
   * `false` scores full prompt + response sequences (the reference path). @default true
   */
  readonly sharePrompts?: boolean;
  /**
   * Pairs are taken in windows of this many (in dataset order) and sorted by length inside a window,
   * so batches pad little; 0 keeps dataset order. Scores always come back in dataset order.
   * @default 8 × batchSize
   */
  readonly sortWindow?: number;
  /**
   * Rewrites each pair before tokenizing (the chat template, core/data/chatTemplate.ts). A pair it
   * refuses with a ChatTemplateError is skipped with that reason.
   */
  readonly transform?: (pair: PreferencePair) => PreferencePair;
  readonly signal?: AbortSignalLike;
  onProgress?(done: number, total: number): void;
  /**
   * Called as each window of pairs completes, in dataset order: its scores, the pairs skipped
   * among its input, and `consumed`, how many input pairs (from the start) are now fully handled.
   * A run resumed with `pairs.slice(consumed)` continues exactly where this one stopped (windows are
   * aligned the same way when nothing was skipped), so these are what to save for a resume.
   */
  onPartial?(part: PartialScores): void;
}

/** Special tokens for scoring (see the file comment). */
export interface TokenizationOptions {
  /** Prepend the tokenizer's BOS where its own rules add one (`Tokenizer.bosTokenId`). @default true */
  readonly addBos?: boolean;
  /** Append EOS to finished responses. @default true for the token-level scorers, false for `sequence` */
  readonly appendEos?: boolean;
}

/** What a run's tokenization did (reported as `tokenization`). */
export interface Tokenization {
  /** The BOS id prepended to every prompt, or null (switched off, or the tokenizer adds none). */
  readonly bos: number | null;
  readonly addBos: boolean;
  /** Whether EOS was appended to finished responses. */
  readonly appendEos: boolean;
  readonly eos: number;
}

/** Resolves the switches for a scorer and tokenizer. */
export function tokenizationOf(kind: ScorerKind, tok: Tokenizer, o: TokenizationOptions = {}): Tokenization {
  const addBos = o.addBos ?? true;
  return { bos: addBos && tok.bosTokenId !== undefined ? tok.bosTokenId : null, addBos, appendEos: o.appendEos ?? kind !== 'sequence', eos: tok.eosTokenId };
}

/** Whether a response of the pair finished (so gets EOS): true unless its record says `<side>_finished: false`. */
export function finished(pair: PreferencePair, side: 'chosen' | 'rejected'): boolean {
  const v = pair.extra?.[`${side}_finished`];
  return v !== false && v !== 'false';
}

export interface PartialScores {
  readonly consumed: number;
  readonly pairs: readonly PairScore[];
  readonly skipped: readonly { id: string; reason: string }[];
}

export interface PairScore {
  readonly id: string;
  /** Position of the pair in the input of scorePairs (set by scorePairs). */
  readonly index?: number;
  readonly chosen: number;
  readonly rejected: number;
  readonly margin: number;
  readonly truncated: boolean;
  readonly chosenTokens: number;
  readonly rejectedTokens: number;
  readonly alpha?: number;
  /**
   * The reference model's log-probs (R*), only from an explicit reference: implicit scorer's `ref`,
   * or `ref` given to the policy or ARM scorer. Summed; mean under length normalisation (R̃*).
   */
  readonly refChosen?: number;
  readonly refRejected?: number;
  /**
   * The policy π_θ's log-probs, for its ranking accuracy R: the policy scorer's policy, the implicit
   * scorer's tuned model. Summed; mean under length normalisation (R̃).
   */
  readonly policyChosen?: number;
  readonly policyRejected?: number;
}

export interface ScoreResult {
  readonly pairs: PairScore[];
  readonly truncated: number;
  readonly skipped: readonly { id: string; reason: string }[];
  /** What the tokenization did (absent in results saved by older versions). */
  readonly tokenization?: Tokenization;
  /**
   * Set when `signal` aborted the run: `pairs` then holds the pairs of the windows that completed
   * (a prefix of the scorable pairs, in dataset order).
   */
  readonly aborted?: boolean;
}

export interface Prepared {
  pair: PreferencePair;
  /** Position in the input. */
  index: number;
  prompt: number[];
  chosen: number[];
  rejected: number[];
  truncated: boolean;
}

const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
const longer = (p: Prepared) => Math.max(p.chosen.length, p.rejected.length);

/**
 * The fixed cost of one forward pass, in padded token positions. On the bundled models with
 * onnxruntime-node (CPU) a call costs ≈1.5 ms and a position ≈50 µs in a batch. Only used to choose
 * how to group rows; any grouping gives the same scores.
 */
const CALL_COST = 32;

/**
 * Splits rows sorted by ascending `size` into consecutive groups of at most `max` rows, minimising
 * Σ (rows in group × largest size in group) + CALL_COST per group: the padded work of running each
 * group as one right-padded batch. Returns the groups' end indices and the cost.
 */
export function planGroups(sizes: readonly number[], max: number): { ends: number[]; cost: number } {
  const n = sizes.length;
  const best = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    for (let i = Math.max(0, j - max); i < j; i++) {
      const c = (best[i] as number) + (j - i) * (sizes[j - 1] as number) + CALL_COST;
      if (c < (best[j] as number)) {
        best[j] = c;
        from[j] = i;
      }
    }
  }
  const ends: number[] = [];
  for (let j = n; j > 0; j = from[j] as number) ends.unshift(j);
  return { ends, cost: best[n] as number };
}

/** One prefill batch of pairs and, inside it, the response rows of each extend batch. */
interface Plan {
  readonly pairs: readonly number[];
  /** Each entry: response rows as 2·k (chosen of pairs[k]) or 2·k + 1 (rejected). */
  readonly extend: readonly (readonly number[])[];
}

/** Groups one prefill batch's 2B responses by length into extend batches of at most `maxRows`. */
function planExtend(batch: readonly Prepared[], maxRows: number): { extend: number[][]; cost: number } {
  const rows = batch.flatMap((_, k) => [2 * k, 2 * k + 1]);
  const len = (r: number) => {
    const p = batch[r >> 1] as Prepared;
    return Math.max(0, (r & 1 ? p.rejected : p.chosen).length - 1);
  };
  rows.sort((x, y) => len(x) - len(y) || x - y);
  const { ends, cost } = planGroups(rows.map(len), maxRows);
  const extend: number[][] = [];
  let start = 0;
  for (const end of ends) {
    const g = rows.slice(start, end);
    start = end;
    if (len(g[g.length - 1] as number) > 0) extend.push(g); // rows with nothing to extend need no pass
  }
  return { extend, cost };
}

/**
 * Prompt-sharing plan for a window of pairs: prefill batches of at most `bs` pairs, each followed by
 * extend batches of responses of similar length. Two orders are costed (by prompt length, which
 * keeps prefill padding low, and by response length, which keeps extend padding low) and the cheaper
 * is used.
 */
function planShared(part: readonly Prepared[], bs: number): Plan[] {
  let best: { plans: Plan[]; cost: number } | null = null;
  for (const key of [(p: Prepared) => p.prompt.length, longer]) {
    const order = part.map((_, i) => i).sort((a, b) => key(part[a] as Prepared) - key(part[b] as Prepared) || a - b);
    const plans: Plan[] = [];
    let cost = 0;
    for (let i = 0; i < order.length; i += bs) {
      const idx = order.slice(i, i + bs);
      const batch = idx.map((k) => part[k] as Prepared);
      const ext = planExtend(batch, 2 * bs);
      cost += CALL_COST + idx.length * Math.max(...batch.map((p) => p.prompt.length)) + ext.cost;
      plans.push({ pairs: idx, extend: ext.extend });
    }
    if (!best || cost < best.cost) best = { plans, cost };
  }
  return (best as { plans: Plan[] }).plans;
}

/** Models that failed an extend whose padded length exceeded their context: pad no further there. */
const strictContext = new WeakSet<LanguageModel>();

/**
 * Per-token log-probs of both responses of every pair in a batch: rows [chosen₀, rejected₀,
 * chosen₁, …], each covering only the response's own tokens. With `extend` the prompts run once
 * (prefill), then each planned extend batch selects its rows' prompt caches and scores them.
 */
async function responseLogprobs(model: LanguageModel, batch: readonly Prepared[], extendPlan: readonly (readonly number[])[] | null, ctx: number): Promise<Float32Array[]> {
  const responses = batch.flatMap((p) => [p.chosen, p.rejected]);
  const full = () =>
    model.score(
      batch.flatMap((p) => [[...p.prompt, ...p.chosen], [...p.prompt, ...p.rejected]]),
      batch.flatMap((p) => [p.prompt.length, p.prompt.length]),
    );
  if (!extendPlan || !model.extend) return full();
  const { logits, cache } = await model.prefill(batch.map((p) => p.prompt));
  const out = responses.map((r) => new Float32Array(r.length));
  try {
    for (const rows of extendPlan) {
      const conts = rows.map((r) => responses[r] as number[]);
      // Padding may make the batch longer than the context although every row fits; the bundled
      // models accept that (positions come from the mask), a model that does not is recomputed.
      const padded = cache.length + Math.max(...conts.map((c) => c.length)) - 1 > ctx;
      if (padded && strictContext.has(model)) return await full();
      const tiled = await cache.select(Int32Array.from(rows, (r) => r >> 1));
      let rest: Float32Array[];
      try {
        rest = await model.extend(tiled, conts);
      } catch (e) {
        if (!padded) throw e;
        strictContext.add(model);
        return await full();
      } finally {
        tiled.dispose();
      }
      rows.forEach((r, k) => {
        if ((rest[k] as Float32Array).length) (out[r] as Float32Array).set(rest[k] as Float32Array, 1);
      });
    }
  } finally {
    cache.dispose();
  }
  const lse = logits.map((row) => logSumExp(row));
  responses.forEach((r, i) => {
    if (r.length) (out[i] as Float32Array)[0] = ((logits[i >> 1] as Float32Array)[r[0] as number] as number) - (lse[i >> 1] as number);
  });
  return out;
}

/** Checks the models a scorer needs and returns the context length to respect. */
function contextFor(kind: ScorerKind, m: ScorerModels): number {
  const need = (x: unknown, what: string) => {
    if (!x) throw new Error(`scorer "${kind}" needs ${what}`);
  };
  // The policy and ARM scorers take an optional reference model for R*.
  const withRef = (ctx: number) => {
    const own = (kind === 'policy' ? m.policy : m.arm) as LanguageModel;
    if (!m.ref) return ctx;
    if (m.ref.vocabSize !== own.vocabSize) throw new Error(`the reference model (--ref) and the ${kind === 'policy' ? 'policy' : 'ARM'} have different vocabularies`);
    return Math.min(ctx, m.ref.contextLength);
  };
  switch (kind) {
    case 'policy':
      need(m.policy, '--policy MODEL');
      return withRef((m.policy as LanguageModel).contextLength);
    case 'implicit':
      need(m.tuned, '--tuned MODEL');
      need(m.ref, '--ref MODEL');
      if ((m.tuned as LanguageModel).vocabSize !== (m.ref as LanguageModel).vocabSize) throw new Error('--tuned and --ref have different vocabularies');
      return Math.min((m.tuned as LanguageModel).contextLength, (m.ref as LanguageModel).contextLength);
    case 'arm':
      need(m.arm, '--arm MODEL');
      return withRef((m.arm as LanguageModel).contextLength);
    case 'sequence':
      need(m.rewardModel, '--reward-model MODEL');
      return (m.rewardModel as SequenceRewardModel).contextLength;
  }
}

/**
 * Tokenizes one pair by the DESIGN §4 rules (after `transform`): prompt and responses separately,
 * the prompt cut from the left when prompt + longer response exceed `ctx` (a BOS stays first), the
 * pair skipped when the longer response alone leaves no room for a prompt token. With `tz`, BOS is
 * prepended to the prompt and EOS appended to each finished response. Shared with tokenScores.ts.
 */
export function preparePair(
  pair: PreferencePair,
  index: number,
  tok: Tokenizer,
  ctx: number,
  transform?: (p: PreferencePair) => PreferencePair,
  tz?: Pick<Tokenization, 'bos' | 'appendEos'>,
): Prepared | { skip: string } {
  let text = pair;
  if (transform) {
    try {
      text = transform(pair);
    } catch (e) {
      if (e instanceof ChatTemplateError) return { skip: e.message };
      throw e;
    }
  }
  let body = tok.encode(text.prompt);
  const head = tz?.bos !== undefined && tz.bos !== null ? [tz.bos] : [];
  const eos = (side: 'chosen' | 'rejected') => (tz?.appendEos && finished(pair, side) ? [tok.eosTokenId] : []);
  const chosen = [...tok.encode(text.chosen), ...eos('chosen')];
  const rejected = [...tok.encode(text.rejected), ...eos('rejected')];
  const longest = Math.max(chosen.length, rejected.length);
  if (longest + 1 > ctx) return { skip: `a response has ${longest} tokens; the context is ${ctx}` };
  let truncated = false;
  if (head.length === 0 && body.length === 0) body = [tok.eosTokenId]; // something to predict the first response token from
  if (head.length + body.length + longest > ctx) {
    body = body.slice(body.length - (ctx - longest - head.length));
    truncated = true;
  }
  return { pair, index, prompt: [...head, ...body], chosen, rejected, truncated };
}

export async function scorePairs(pairs: readonly PreferencePair[], kind: ScorerKind, m: ScorerModels, tok: Tokenizer, opts: ScoreOptions = {}): Promise<ScoreResult> {
  const ctx = contextFor(kind, m);
  const beta = opts.beta ?? 1;
  if (kind === 'implicit' && !(beta > 0)) throw new RangeError(`beta must be > 0 (got ${beta})`);
  const tz = tokenizationOf(kind, tok, opts);
  const skipped: { id: string; reason: string; index: number }[] = [];
  const prepared: Prepared[] = [];
  pairs.forEach((pair, index) => {
    const p = preparePair(pair, index, tok, ctx, opts.transform, tz);
    if ('skip' in p) skipped.push({ id: pair.id, reason: p.skip, index });
    else prepared.push(p);
  });
  const bs = Math.max(1, opts.batchSize ?? 8);
  const share = (opts.sharePrompts ?? true) && kind !== 'sequence';
  const normalize = !!opts.lengthNormalize;

  const scoreBatch = async (batch: readonly Prepared[], extend: readonly (readonly number[])[] | null): Promise<PairScore[]> => {
    const lens = batch.flatMap((p) => [p.chosen.length, p.rejected.length]);
    const sums = async (model: LanguageModel) => (await responseLogprobs(model, batch, extend, ctx)).map(sum);
    const mean = (s: number[]) => s.map((v, i) => (lens[i] ? v / (lens[i] as number) : v));
    const asCompared = (s: number[]) => (normalize ? mean(s) : s);
    let scores: number[];
    let ref: number[] | undefined;
    let pol: number[] | undefined;
    switch (kind) {
      case 'policy':
        pol = asCompared(await sums(m.policy as LanguageModel));
        scores = pol;
        if (m.ref) ref = m.ref === m.policy ? pol : asCompared(await sums(m.ref)); // a base model is its own reference
        break;
      case 'arm': {
        scores = asCompared(await sums(m.arm as LanguageModel));
        if (m.ref) ref = asCompared(await sums(m.ref));
        break;
      }
      case 'implicit': {
        const t = await sums(m.tuned as LanguageModel);
        const r = await sums(m.ref as LanguageModel);
        scores = t.map((v, i) => beta * (v - (r[i] as number)));
        pol = asCompared(t);
        ref = asCompared(r);
        break;
      }
      case 'sequence':
        scores = Array.from(await (m.rewardModel as SequenceRewardModel).score(batch.flatMap((p) => [[...p.prompt, ...p.chosen], [...p.prompt, ...p.rejected]])));
        break;
    }
    return batch.map((p, i) => {
      const c = scores[2 * i] as number;
      const r = scores[2 * i + 1] as number;
      return {
        id: p.pair.id,
        index: p.index,
        chosen: c,
        rejected: r,
        margin: c - r,
        truncated: p.truncated,
        chosenTokens: p.chosen.length,
        rejectedTokens: p.rejected.length,
        ...(p.pair.alpha !== undefined ? { alpha: p.pair.alpha } : {}),
        ...(ref ? { refChosen: ref[2 * i] as number, refRejected: ref[2 * i + 1] as number } : {}),
        ...(pol ? { policyChosen: pol[2 * i] as number, policyRejected: pol[2 * i + 1] as number } : {}),
      };
    });
  };

  // Windows of pairs in dataset order; inside a window the pairs are regrouped by length so that
  // batches pad little, and the window's scores return to dataset order before the next starts.
  const sortWindow = opts.sortWindow ?? 8 * bs;
  const window = Math.max(bs, sortWindow);
  const out: PairScore[] = [];
  let done = 0;
  let aborted = false;
  for (let w = 0; w < prepared.length && !aborted; w += window) {
    const part = prepared.slice(w, w + window);
    let plans: Plan[];
    if (share && sortWindow > 0) plans = planShared(part, bs);
    else {
      const order = part.map((_, i) => i);
      const cost = (p: Prepared) => p.prompt.length + longer(p);
      if (sortWindow > 0) order.sort((a, b) => cost(part[a] as Prepared) - cost(part[b] as Prepared) || a - b);
      plans = [];
      for (let i = 0; i < order.length; i += bs) {
        const idx = order.slice(i, i + bs);
        plans.push({ pairs: idx, extend: share ? planExtend(idx.map((k) => part[k] as Prepared), 2 * bs).extend : [] });
      }
    }
    const scored = new Array<PairScore>(part.length);
    for (const plan of plans) {
      if (opts.signal?.aborted) {
        aborted = true;
        break;
      }
      const res = await scoreBatch(plan.pairs.map((i) => part[i] as Prepared), share ? plan.extend : null);
      plan.pairs.forEach((i, k) => (scored[i] = res[k] as PairScore));
      done += plan.pairs.length;
      opts.onProgress?.(done, prepared.length);
    }
    if (aborted) break;
    out.push(...scored);
    if (opts.onPartial) {
      // Everything before the next window's first pair is handled (a skipped pair there included).
      const lo = part[0] ? (part[0] as Prepared).index : 0;
      const next = prepared[w + window];
      const consumed = next ? next.index : pairs.length;
      opts.onPartial({ consumed, pairs: scored, skipped: skipped.filter((s) => s.index < consumed && (w === 0 || s.index >= lo)).map(({ id, reason }) => ({ id, reason })) });
    }
  }
  return { pairs: out, truncated: out.filter((p) => p.truncated).length, skipped: skipped.map(({ id, reason }) => ({ id, reason })), tokenization: tz, ...(aborted ? { aborted } : {}) };
}
