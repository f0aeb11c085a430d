import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { describeRewardHack, findRewardHack } from '../../src/core/reward/hacking.ts';
import { oracleWords, positivity, valence } from '../../src/core/reward/oracle.ts';

describe('reward hacking detector', () => {
  it('finds a rewarded word repeated in a phrase (the issue’s "and the United States" loop)', () => {
    expect(valence('united')).toBe(1);
    const text = ' and the United States, and the United States of America and the United States and the United States';
    const h = findRewardHack(text);
    expect(h).not.toBeNull();
    expect(h!.word).toBe('united');
    expect(h!.count).toBe(4);
    expect(h!.contribution).toBe(4);
    expect(h!.phrase).toBe('and the united states');
    expect(h!.phraseCount).toBe(4);
    expect(h!.positivity).toBe(positivity(text));
    expect(describeRewardHack(h!)).toBe(`positivity ${positivity(text)} comes from repeating 'and the united states' ×4 ('united' is +1 in AFINN): the reward is being gamed`);
  });

  it('reports a bare word when no longer phrase repeats, and the share when other words add to the score', () => {
    // good +3 ×3 in different contexts, love +3 once: 9 of 12 comes from 'good'.
    const h = findRewardHack('good food, a good day, love and good');
    expect(h).toMatchObject({ word: 'good', count: 3, contribution: 9, phrase: 'good', positivity: 12 });
    expect(describeRewardHack(h!)).toBe("9 of positivity 12 comes from repeating 'good' ×3: the reward is being gamed");
  });

  it('says nothing below three repeats, for negative words, or for repeated neutral words', () => {
    expect(findRewardHack('good and good')).toBeNull();
    expect(findRewardHack('bad bad bad bad')).toBeNull();
    expect(findRewardHack('the people of the people of the people of the')).toBeNull();
    expect(findRewardHack('')).toBeNull();
    expect(findRewardHack('good and good', { minRepeats: 2 })?.count).toBe(2);
    expect(() => findRewardHack('x', { minRepeats: 1 })).toThrow(/minRepeats/);
  });

  it('property: a hack is reported iff some positive-valence word occurs ≥ 3 times, and its count is exact', () => {
    const vocab = ['good', 'united', 'the', 'bad', 'of', 'people', 'love', 'war'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...vocab), { maxLength: 30 }), (ws) => {
        const text = ws.join(' ');
        const h = findRewardHack(text);
        const counts = new Map<string, number>();
        for (const w of oracleWords(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
        const rewarded = [...counts].filter(([w, c]) => valence(w) > 0 && c >= 3);
        expect(h !== null).toBe(rewarded.length > 0);
        if (h) {
          expect(h.count).toBe(counts.get(h.word));
          expect(h.contribution).toBe(Math.max(...rewarded.map(([w, c]) => valence(w) * c)));
          expect(h.phraseCount).toBeGreaterThanOrEqual(3);
          expect(h.phrase.split(' ')).toContain(h.word);
        }
      }),
    );
  });
});
