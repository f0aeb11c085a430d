import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { conciseness, oracle, oracleWords, positivity, valence } from '../../src/core/reward/oracle.ts';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/oracle.json', import.meta.url), 'utf8')) as {
  cases: { text: string; positive: number; concise: number; words: number }[];
};

describe('oracle (true reward)', () => {
  it('agrees with the Python foundry on its fixed texts', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(8);
    for (const c of fixture.cases) {
      expect(positivity(c.text), c.text).toBe(c.positive);
      expect(conciseness(c.text), c.text).toBe(c.concise);
      expect(oracleWords(c.text).length).toBe(c.words);
    }
  });

  it('sums AFINN-111 valences on hand-checked words', () => {
    // good +3, love +3, terrible -3, disaster -2 in AFINN-111
    expect(valence('good')).toBe(3);
    expect(valence('disaster')).toBe(-2);
    expect(positivity('Good, GOOD love!')).toBe(9);
    expect(positivity('A terrible disaster.')).toBe(-5);
    expect(positivity("We can't stand it")).toBe(0); // multi-word phrases are not matched
    expect(oracle('positive', 'peace')).toBe(valence('peace'));
  });

  it('counts words for conciseness, with apostrophes and hyphens inside words', () => {
    expect(oracleWords("It's a well-known fact, 42 times.")).toEqual(["it's", 'a', 'well-known', 'fact', 'times']);
    expect(conciseness('one two three four')).toBe(-1);
    expect(conciseness('')).toBe(-0);
  });
});
