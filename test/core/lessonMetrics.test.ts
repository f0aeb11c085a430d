import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { degenerationRate, maxNgramCount, mean, pairedInterval, repeatsNgram, sampleSd, studentTCdf, studentTQuantile } from '../../src/core/metrics/lesson.ts';

describe('degeneration (a 4-gram 3 or more times)', () => {
  it('counts the most frequent n-gram, overlaps included', () => {
    expect(maxNgramCount([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4], 4)).toBe(3);
    // "1 2 3 4" twice, then a cut loop: most frequent 4-gram occurs twice
    expect(maxNgramCount([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3], 4)).toBe(2);
    // six equal tokens hold "a a a a" at positions 0, 1, 2
    expect(maxNgramCount(['a', 'a', 'a', 'a', 'a', 'a'], 4)).toBe(3);
    expect(maxNgramCount([1, 2, 3], 4)).toBe(0);
    expect(maxNgramCount([1, 2, 3, 4], 4)).toBe(1);
  });
  it('does not confuse n-grams whose joined text would collide', () => {
    expect(maxNgramCount(['a b', 'c', 'a', 'b c', 'a b', 'c', 'a', 'b c'], 2)).toBe(2);
    expect(maxNgramCount([12, 3, 1, 23], 2)).toBe(1);
  });
  it('flags the loop of issue 11: "the people of the people of the people of the other"', () => {
    const words = 'is not and the people of the people of the people of the other nations'.split(' ');
    // "the people of the" starts at words 3, 6 and 9 (overlapping): 3 times
    expect(maxNgramCount(words, 4)).toBe(3);
    expect(repeatsNgram(words)).toBe(true);
    // one "of the people" fewer: twice, not a loop
    const twice = 'is not and the people of the people of the other nations'.split(' ');
    expect(maxNgramCount(twice, 4)).toBe(2);
    expect(repeatsNgram(twice)).toBe(false);
  });
  it('degeneration rate is the share of looping samples', () => {
    const loop = [7, 8, 9, 7, 8, 9, 7, 8, 9, 7, 8, 9];
    expect(maxNgramCount(loop, 4)).toBe(3);
    expect(degenerationRate([loop, [1, 2, 3, 4, 5], [], loop])).toBe(0.5);
    expect(degenerationRate([])).toBe(0);
  });
  it('rejects n < 1 and times < 2', () => {
    expect(() => maxNgramCount([1], 0)).toThrow(/n must be an integer >= 1/);
    expect(() => repeatsNgram([1], 4, 1)).toThrow(/times must be an integer >= 2/);
  });
  it('property: a sequence with no repeated token never degenerates; k copies of a 4-token block give count k', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer(), { maxLength: 40 }), (s) => !repeatsNgram(s, 4, 2)),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer(), { minLength: 4, maxLength: 4 }), fc.integer({ min: 1, max: 6 }), (block, k) => maxNgramCount(Array.from({ length: k }, () => block).flat(), 4) === k),
      { numRuns: 100 },
    );
  });
});

describe('Student t', () => {
  it('CDF matches closed forms (df 1: Cauchy; df 2)', () => {
    expect(studentTCdf(0, 7)).toBeCloseTo(0.5, 12);
    expect(studentTCdf(1, 1)).toBeCloseTo(0.75, 10); // 1/2 + atan(1)/π
    expect(studentTCdf(-1, 1)).toBeCloseTo(0.25, 10);
    // df 2: F(t) = 1/2 + t / (2 √(2 + t²)); t = 2 → 1/2 + 1/√6
    expect(studentTCdf(2, 2)).toBeCloseTo(0.5 + 1 / Math.sqrt(6), 10);
  });
  it('quantiles match the tables', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062, 3);
    expect(studentTQuantile(0.975, 3)).toBeCloseTo(3.18245, 4);
    expect(studentTQuantile(0.975, 31)).toBeCloseTo(2.03951, 4);
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.95996, 4);
    expect(studentTQuantile(0.025, 31)).toBeCloseTo(-2.03951, 4);
    expect(() => studentTQuantile(1, 3)).toThrow(/p must be in \(0, 1\)/);
  });
});

describe('paired t interval', () => {
  it('hand-computed: d = [2, 3, 2, 3]', () => {
    // mean 2.5; Σ(d − 2.5)² = 4·0.25 = 1, s² = 1/3, s = 0.57735, se = s/2 = 0.288675;
    // t_{0.975, 3} = 3.182446 → half-width 0.918698
    const r = pairedInterval([3, 5, 4, 6], [1, 2, 2, 3]);
    expect(r.n).toBe(4);
    expect(r.mean).toBe(2.5);
    expect(r.sd).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(r.se).toBeCloseTo(0.288675, 6);
    expect(r.t).toBeCloseTo(3.182446, 5);
    expect(r.lo).toBeCloseTo(1.581302, 5);
    expect(r.hi).toBeCloseTo(3.418698, 5);
  });
  it('pairs by index: unpaired spread does not widen it', () => {
    // x and y vary a lot but x − y is constant: the interval collapses to the difference
    const r = pairedInterval([10, -5, 3, 8], [9, -6, 2, 7]);
    expect(r.mean).toBe(1);
    expect(r.lo).toBe(1);
    expect(r.hi).toBe(1);
  });
  it('mean, sd helpers', () => {
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(sampleSd([1, 2, 3, 6])).toBeCloseTo(Math.sqrt(14 / 3), 12);
    expect(sampleSd([5])).toBe(0);
    expect(() => mean([])).toThrow(/mean of no values/);
  });
  it('property: the interval is centred on the mean difference and shifts with x', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -20, max: 20 }), fc.integer({ min: -20, max: 20 })), { minLength: 2, maxLength: 40 }), fc.integer({ min: -5, max: 5 }), (pairs, c) => {
        const x = pairs.map((p) => p[0]);
        const y = pairs.map((p) => p[1]);
        const r = pairedInterval(x, y);
        const s = pairedInterval(x.map((v) => v + c), y);
        return r.lo <= r.mean && r.mean <= r.hi && Math.abs(r.mean - r.lo - (r.hi - r.mean)) < 1e-9 && Math.abs(s.lo - r.lo - c) < 1e-9 && Math.abs(s.hi - r.hi - c) < 1e-9;
      }),
      { numRuns: 200 },
    );
  });
  it('bad input names what is wrong', () => {
    expect(() => pairedInterval([1, 2], [1])).toThrow(/same length \(got 2 and 1\)/);
    expect(() => pairedInterval([1], [1])).toThrow(/at least 2 pairs/);
    expect(() => pairedInterval([1, NaN], [1, 2])).toThrow(/finite/);
    expect(() => pairedInterval([1, 2], [1, 2], 1)).toThrow(/level must be in \(0, 1\)/);
  });
});

describe('bench:lesson flags and word table', () => {
  it('defaults to the flagship over 32 seeds; flags override one setting each', async () => {
    const { parseLessonFlags } = await import('../../src/bench/lesson.ts');
    const { FLAGSHIP } = await import('../../src/core/lesson/flagship.ts');
    const d = parseLessonFlags([]);
    expect(d.settings.seeds).toBe(32);
    expect(d.settings.prompt).toBe(FLAGSHIP.prompt);
    expect(d.settings.beta).toBe(FLAGSHIP.beta);
    expect(d.settings.config).toMatchObject({ do_sample: true, temperature: FLAGSHIP.temperature, top_p: FLAGSHIP.top_p, repetition_penalty: FLAGSHIP.repetition_penalty, max_new_tokens: FLAGSHIP.max_new_tokens });
    const f = parseLessonFlags(['--seeds', '8', '--beta=1', '--arm', 'tiny-arm-positive=0.75', '--arm', 'tiny-arm-concise=0.25', '--json']);
    expect(f.settings.seeds).toBe(8);
    expect(f.settings.beta).toBe(1);
    expect(f.settings.arms).toEqual([{ id: 'tiny-arm-positive', weight: 0.75 }, { id: 'tiny-arm-concise', weight: 0.25 }]);
    expect(f.json).toBe(true);
  });
  it('bad flags name the flag and what it takes', async () => {
    const { parseLessonFlags } = await import('../../src/bench/lesson.ts');
    expect(() => parseLessonFlags(['--seeds', '1'])).toThrow(/--seeds needs an integer >= 2 \(got "1"\)/);
    expect(() => parseLessonFlags(['--beta', '0'])).toThrow(/--beta needs a number > 0/);
    expect(() => parseLessonFlags(['--top-p'])).toThrow(/--top-p needs a number in \(0, 1\] \(got nothing\)/);
    expect(() => parseLessonFlags(['--sedes', '3'])).toThrow(/unknown flag "--sedes"/);
  });
  it('topWords sums positive valences per word', async () => {
    const { topWords } = await import('../../src/bench/lesson.ts');
    // AFINN-111: great +3, united +1, good +3, bad −3 (negative words are left out)
    expect(topWords(['the great United States', 'a great and good nation, bad'], 3)).toEqual([
      ['great', 6, 2],
      ['good', 3, 1],
      ['united', 1, 1],
    ]);
  });
});
