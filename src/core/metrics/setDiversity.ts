/**
 * How different the candidates of one set are from each other (the candidates command, the page's
 * candidate sets). All on token ids (the policy's tokenizer), so the numbers depend on it.
 *
 * - self-BLEU (Zhu et al. 2018, Texygen): each candidate's sentence BLEU-4 against all the others as
 *   references, averaged over the candidates. Lower = more diverse. Defined for two or more candidates
 *   (null otherwise). BLEU here is NLTK's `sentence_bleu` with uniform weights (¼ each for n = 1…4)
 *   and `SmoothingFunction().method1` (Chen & Cherry 2014: a modified n-gram precision with no match
 *   counts ε = 0.1 matches, p_n = 0.1 / max(1, number of hypothesis n-grams)); like NLTK, a candidate
 *   with no unigram match scores 0, and the brevity penalty uses the reference length closest to the
 *   candidate's (the shorter on a tie): BP = 1 if c > r, else exp(1 − r/c) (0 for an empty candidate).
 *   Counts are clipped by the largest count of the n-gram in any one reference (multi-reference BLEU).
 * - distinct-n (Li et al. 2016): unique n-grams / all n-grams over the whole set (metrics/diversity.ts).
 *
 * - distribution distance (optional, needs the policy): the model interface exposes no hidden states
 *   or embeddings, so no embedding distance is computed. Instead each candidate is represented by the
 *   mean of the policy's next-token distributions along it, p̄_i = (1/|y_i|)·Σ_t p(· | prompt, y_i,<t)
 *   (the distributions its tokens were predicted from), and the set's value is the mean over pairs of
 *   1 − cos(p̄_i, p̄_j): 0 when the candidates lead the model through the same predictions, up to 1.
 *   A proxy for "how differently the model reads them", not a semantic embedding.
 *
 * A trailing EOS is dropped from each candidate first (`stripEos`), so that every candidate that
 * ended does not share an "<eos>" unigram with every other one (the distribution distance keeps it:
 * the EOS token's own prediction is part of the candidate).
 */
import { softmax } from '../math/logits.ts';
import type { LanguageModel } from '../model/types.ts';
import { distinctN } from './diversity.ts';

export const BLEU_EPSILON = 0.1;

function ngramCounts(seq: readonly number[], n: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i + n <= seq.length; i++) {
    const key = seq.slice(i, i + n).join(',');
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

/** Sentence BLEU-maxN of `hyp` against `refs` (NLTK sentence_bleu, uniform weights, smoothing method1). */
export function sentenceBleu(hyp: readonly number[], refs: readonly (readonly number[])[], maxN = 4): number {
  if (!Number.isInteger(maxN) || maxN < 1) throw new RangeError(`maxN must be an integer >= 1 (got ${maxN})`);
  if (refs.length === 0) throw new RangeError('BLEU needs at least one reference');
  const c = hyp.length;
  if (c === 0) return 0;
  let logSum = 0;
  for (let n = 1; n <= maxN; n++) {
    const counts = ngramCounts(hyp, n);
    const maxRef = new Map<string, number>();
    for (const r of refs) for (const [g, k] of ngramCounts(r, n)) if (counts.has(g)) maxRef.set(g, Math.max(maxRef.get(g) ?? 0, k));
    let matched = 0;
    let total = 0;
    for (const [g, k] of counts) {
      matched += Math.min(k, maxRef.get(g) ?? 0);
      total += k;
    }
    if (n === 1 && matched === 0) return 0; // NLTK: no unigram match → BLEU 0, before smoothing
    const p = (matched === 0 ? BLEU_EPSILON : matched) / Math.max(1, total);
    logSum += Math.log(p) / maxN;
  }
  let r = refs[0]?.length ?? 0;
  for (const ref of refs) {
    const d = Math.abs(ref.length - c);
    const best = Math.abs(r - c);
    if (d < best || (d === best && ref.length < r)) r = ref.length;
  }
  const bp = c > r ? 1 : Math.exp(1 - r / c);
  return bp * Math.exp(logSum);
}

/** Mean over candidates of BLEU-4(candidate, the others); null for fewer than two candidates. */
export function selfBleu(seqs: readonly (readonly number[])[], maxN = 4): number | null {
  if (seqs.length < 2) return null;
  let sum = 0;
  for (let i = 0; i < seqs.length; i++) sum += sentenceBleu(seqs[i] as readonly number[], seqs.filter((_, j) => j !== i), maxN);
  return sum / seqs.length;
}

/** Drops one trailing EOS id from each sequence. */
export function stripEos(seqs: readonly (readonly number[])[], eosTokenIds: readonly number[]): number[][] {
  const eos = new Set(eosTokenIds);
  return seqs.map((s) => (s.length > 0 && eos.has(s[s.length - 1] as number) ? s.slice(0, -1) : [...s]));
}

/** The set-diversity line of a candidate set (names as in the candidates JSONL). */
export interface SetDiversity {
  /** Mean BLEU-4 of each candidate against the others; lower = more diverse. null with < 2 candidates. */
  readonly self_bleu: number | null;
  /** Unique unigrams / all unigrams over the set. */
  readonly distinct_1: number;
  /** Unique bigrams / all bigrams over the set. */
  readonly distinct_2: number;
  /** Mean pairwise 1 − cosine of the candidates' mean next-token distributions (only when asked for; null with < 2 non-empty candidates). */
  readonly distribution_distance?: number | null;
}

export function setDiversity(seqs: readonly (readonly number[])[], eosTokenIds: readonly number[] = []): SetDiversity {
  const s = stripEos(seqs, eosTokenIds);
  return { self_bleu: selfBleu(s), distinct_1: distinctN(s, 1), distinct_2: distinctN(s, 2) };
}

/**
 * p̄_i for each candidate: the mean of softmax(policy logits) over the positions that predicted its
 * tokens (all rows in one batch: the prompt prefilled once, tiled, then stepped through the tokens;
 * rows that ended are fed EOS and no longer counted). Float64 sums. Frees every cache.
 */
export async function meanNextTokenDistributions(model: LanguageModel, prompt: readonly number[], seqs: readonly (readonly number[])[]): Promise<Float64Array[]> {
  const V = model.vocabSize;
  const sums = seqs.map(() => new Float64Array(V));
  const maxLen = Math.max(0, ...seqs.map((s) => s.length));
  if (maxLen === 0 || seqs.length === 0) return sums;
  const pad = model.eosTokenIds[0] ?? 0;
  const first = await model.prefill([prompt]);
  let cache = first.cache;
  try {
    const tiled = await cache.select(new Int32Array(seqs.length));
    cache.dispose();
    cache = tiled;
    let logits: readonly Float32Array[] = seqs.map(() => first.logits[0] as Float32Array);
    for (let t = 0; t < maxLen; t++) {
      seqs.forEach((s, i) => {
        if (t >= s.length) return;
        const p = softmax(logits[i] as Float32Array);
        const sum = sums[i] as Float64Array;
        for (let v = 0; v < V; v++) sum[v] = (sum[v] as number) + (p[v] as number);
      });
      if (t + 1 === maxLen) break;
      const next = Int32Array.from(seqs, (s) => (t < s.length ? (s[t] as number) : pad));
      const r = await model.step(cache, next);
      cache = r.cache;
      logits = r.logits;
    }
  } finally {
    cache.dispose();
  }
  seqs.forEach((s, i) => {
    const sum = sums[i] as Float64Array;
    if (s.length) for (let v = 0; v < V; v++) sum[v] = (sum[v] as number) / s.length;
  });
  return sums;
}

/** 1 − cos(a, b); 1 when either is all zeros. */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa === 0 || bb === 0 ? 1 : 1 - ab / Math.sqrt(aa * bb);
}

/** Mean pairwise 1 − cos(p̄_i, p̄_j) over the non-empty candidates; null with fewer than two. */
export async function distributionDistance(model: LanguageModel, prompt: readonly number[], seqs: readonly (readonly number[])[]): Promise<number | null> {
  const kept = seqs.filter((s) => s.length > 0);
  if (kept.length < 2) return null;
  const means = await meanNextTokenDistributions(model, prompt, kept);
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < means.length; i++)
    for (let j = i + 1; j < means.length; j++) {
      sum += cosineDistance(means[i] as Float64Array, means[j] as Float64Array);
      pairs++;
    }
  return sum / pairs;
}
