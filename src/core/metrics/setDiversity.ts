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
 * A trailing EOS is dropped from each candidate first (`stripEos`), so that every candidate that
 * ended does not share an "<eos>" unigram with every other one.
 */
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
}

export function setDiversity(seqs: readonly (readonly number[])[], eosTokenIds: readonly number[] = []): SetDiversity {
  const s = stripEos(seqs, eosTokenIds);
  return { self_bleu: selfBleu(s), distinct_1: distinctN(s, 1), distinct_2: distinctN(s, 2) };
}
