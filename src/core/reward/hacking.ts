/**
 * Reward hacking on the positivity oracle: a sample whose score comes from repeating a rewarded word
 * ("…and the United States, and the United States…": "united" is +1 in AFINN-111) games the oracle
 * rather than saying something positive. This detector finds such repetition so the page can say so
 * next to the sample. Pure: words as the oracle sees them (oracle.ts), no model.
 */
import { oracleWords, positivity, valence } from './oracle.ts';

export interface RewardHack {
  /** The rewarded word that repeats ("united"). */
  readonly word: string;
  /** Its AFINN-111 valence (> 0 for a positivity reward). */
  readonly valence: number;
  /** How many times the word occurs in the sample. */
  readonly count: number;
  /** valence × count: the part of the sample's positivity that the repetition contributes. */
  readonly contribution: number;
  /** The longest phrase (up to `maxN` words) containing the word that also repeats ≥ minRepeats times. */
  readonly phrase: string;
  readonly phraseCount: number;
  /** The sample's whole positivity score (AFINN sum). */
  readonly positivity: number;
}

export interface HackOptions {
  /** Repeats of one rewarded word that count as gaming the oracle. @default 3 */
  readonly minRepeats?: number;
  /** Longest phrase reported around the word, in words. @default 4 */
  readonly maxN?: number;
}

/**
 * The rewarded word whose repetition contributes most to the sample's positivity, or null when no
 * word with positive valence occurs `minRepeats` (3) or more times.
 */
export function findRewardHack(text: string, opts: HackOptions = {}): RewardHack | null {
  const minRepeats = opts.minRepeats ?? 3;
  const maxN = opts.maxN ?? 4;
  if (!Number.isInteger(minRepeats) || minRepeats < 2) throw new RangeError(`minRepeats must be an integer >= 2 (got ${minRepeats})`);
  if (!Number.isInteger(maxN) || maxN < 1) throw new RangeError(`maxN must be an integer >= 1 (got ${maxN})`);
  const words = oracleWords(text);
  const counts = new Map<string, number>();
  for (const w of words) if (valence(w) > 0) counts.set(w, (counts.get(w) ?? 0) + 1);
  let best: { word: string; count: number; v: number } | null = null;
  for (const [word, count] of counts) {
    if (count < minRepeats) continue;
    const v = valence(word);
    // Largest contribution first; ties: more repeats, then the word first in the text.
    if (!best || v * count > best.v * best.count || (v * count === best.v * best.count && count > best.count)) best = { word, count, v };
  }
  if (!best) return null;
  // The longest n-gram containing the word that repeats as often as the threshold.
  let phrase = best.word;
  let phraseCount = best.count;
  for (let n = Math.min(maxN, words.length); n >= 2; n--) {
    const grams = new Map<string, number>();
    for (let i = 0; i + n <= words.length; i++) {
      const g = words.slice(i, i + n);
      if (!g.includes(best.word)) continue;
      const key = g.join(' ');
      grams.set(key, (grams.get(key) ?? 0) + 1);
    }
    const top = [...grams].filter(([, c]) => c >= minRepeats).sort((a, b) => b[1] - a[1])[0];
    if (top) {
      [phrase, phraseCount] = top;
      break;
    }
  }
  return { word: best.word, valence: best.v, count: best.count, contribution: best.v * best.count, phrase, phraseCount, positivity: positivity(text) };
}

/** The warning shown next to a sample: "positivity 5 comes from repeating 'united' ×4: the reward is being gamed". */
export function describeRewardHack(h: RewardHack): string {
  const what = h.phrase === h.word ? `'${h.word}' ×${h.count}` : `'${h.phrase}' ×${h.phraseCount} ('${h.word}' is +${h.valence} in AFINN)`;
  const share = h.contribution >= h.positivity ? `positivity ${fmt(h.positivity)} comes from` : `${fmt(h.contribution)} of positivity ${fmt(h.positivity)} comes from`;
  return `${share} repeating ${what}: the reward is being gamed`;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
