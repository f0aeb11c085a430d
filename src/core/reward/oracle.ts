/**
 * The "true reward" of the bundled models: two transparent functions of text that stand in for
 * human judgement. Mirrors `models/foundry/text.py` exactly (a test compares them on fixed texts).
 *
 * - positivity: sum of AFINN-111 valences (Nielsen 2011, CC BY 4.0) over the words; single-word
 *   entries only (the 15 multi-word phrases are not matched).
 * - conciseness: -0.25 per word.
 *
 * A word is a maximal match of {@link WORD_RE} in the lower-cased text ('’' counts as an apostrophe).
 */
import lexicon from './afinn-111.json' with { type: 'json' };

export const WORD_RE = /[a-z]+(?:['-][a-z]+)*/g;
export const CONCISENESS_PER_WORD = -0.25;

const AFINN: ReadonlyMap<string, number> = new Map(Object.entries(lexicon.words as Record<string, number>));

export type OracleAttribute = 'positive' | 'concise';
export const ORACLE_ATTRIBUTES: readonly OracleAttribute[] = ['positive', 'concise'];

/** The words of a text, as the oracle sees them. */
export function oracleWords(text: string): string[] {
  return text.replaceAll('\u2019', "'").toLowerCase().match(WORD_RE) ?? [];
}

/** AFINN valence of one word (0 when absent). */
export function valence(word: string): number {
  return AFINN.get(word) ?? 0;
}

export function positivity(text: string): number {
  let s = 0;
  for (const w of oracleWords(text)) s += valence(w);
  return s;
}

export function conciseness(text: string): number {
  return CONCISENESS_PER_WORD * oracleWords(text).length;
}

export function oracle(attribute: OracleAttribute, text: string): number {
  return attribute === 'positive' ? positivity(text) : conciseness(text);
}
