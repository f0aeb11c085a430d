import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultSignal, oracleContributions, scaleSignal, signalScale, signalValue, signalValues, SIGNAL_INFO } from '../../src/core/viz/signals.ts';
import { positivity } from '../../src/core/reward/oracle.ts';
import type { RowStep } from '../../src/core/search/events.ts';

const step = (logprob: number, combined: number, rewards: Record<string, number> = {}): RowStep => ({
  row: 0, parent: 0, group: 0, tokenId: 1, logprob, combinedLogprob: combined, rewards, score: 0, top: [],
});

describe('token signals', () => {
  it('computes each signal from a step', () => {
    expect(signalValue(step(-2, -0.5), 'shift')).toBe(1.5);
    expect(signalValue(step(-2, -0.5, { 'arm:a': -0.3 }), 'reward')).toBe(-0.3);
    expect(signalValue(step(-2, -0.5), 'reward')).toBeNaN();
    expect(signalValue(step(-2, -0.5), 'logprob')).toBe(-2);
  });
  it("a sequence reward model's advantage is the change of its prefix score since the previous scored prefix, never the raw score", () => {
    // ARGS / guided beams: RM(x ⊕ y≤t) at scored steps (absent between rescorings).
    const rm = 'sequence:tiny-rm-positive';
    const steps = [step(-1, -1, { [rm]: 1 }), step(-1, -1), step(-1, -1, { [rm]: 1.5 }), step(-1, -1, { [rm]: 1.25 })];
    expect(signalValues(steps, 'advantage')).toEqual([NaN, NaN, 0.5, -0.25]);
    const adv = signalValues(steps, 'advantage').filter(Number.isFinite);
    expect(adv.reduce((a, b) => a + b, 0)).toBe(1.25 - 1); // telescopes: last score − first
    expect(signalValues(steps, 'reward')).toEqual([1, NaN, 1.5, 1.25]); // the raw score stays under 'reward'
    // ARMs are unchanged: ℓ_arm(y) − ℓ_base(y) per token.
    expect(signalValues([step(-2, -1, { 'arm:a': -0.5 }), step(-1, -1, { 'arm:a': -3 })], 'advantage')).toEqual([1.5, -2]);
  });
  it('scales signed signals by the largest magnitude and ranges to [-1, 1]', () => {
    expect(scaleSignal([1.5, -0.5, 0, NaN], 'shift')).toEqual([1, -1 / 3, 0, NaN]);
    expect(scaleSignal([-4, -2, 0], 'logprob')).toEqual([-1, 0, 1]);
    expect(scaleSignal([-1, -1], 'logprob')).toEqual([0, 0]);
    expect(scaleSignal([NaN], 'reward')).toEqual([NaN]);
  });

  it('credits oracle positivity to the token that completes a word, and sums to what the tokens added', () => {
    // AFINN: good +3, great +3, bad -3. "gre"+"at" completes "great" on the second token.
    const texts = [' good', ' gre', 'at', ' day', ' not', ' bad'];
    const c = oracleContributions('It was', texts);
    expect(c).toEqual([3, 0, 3, 0, 0, -3]);
    expect(c.reduce((a, b) => a + b, 0)).toBe(positivity('It was' + texts.join('')) - positivity('It was'));
    // A word that spans the prompt boundary: "goo" + "d" completes "good".
    expect(oracleContributions('so goo', ['d'])).toEqual([3]);
  });

  it('reward advantage is the ARM log-prob minus the base log-prob (0 where they agree), and an implicit reward as it is', () => {
    // base p = 0.038, ARM p = 0.2 → advantage log(0.2/0.038) > 0: the ARM prefers the token beyond fluency
    const s = step(Math.log(0.038), Math.log(0.531), { 'arm:pos': Math.log(0.2), 'arm:concise': Math.log(0.038) });
    expect(signalValue(s, 'advantage')).toBeCloseTo(Math.log(0.2 / 0.038), 12);
    expect(signalValue(s, 'advantage', 'arm:concise')).toBe(0);
    expect(signalValue(s, 'reward', 'arm:concise')).toBe(Math.log(0.038));
    expect(signalValue(step(-2, -1, { 'implicit:dpo': 0.7 }), 'advantage')).toBe(0.7);
    expect(signalValue(step(-2, -1), 'advantage')).toBeNaN();
    // a frequent word both models like (−0.1) and a rare word the ARM prefers (−6 vs −3):
    // the token reward ranks the frequent word higher, the advantage ranks the rare one higher
    const common = step(-0.1, -0.05, { 'arm:pos': -0.1 });
    const rare = step(-6, -4, { 'arm:pos': -3 });
    expect(signalValue(common, 'reward')).toBeGreaterThan(signalValue(rare, 'reward'));
    expect(signalValue(rare, 'advantage')).toBeGreaterThan(signalValue(common, 'advantage'));
  });

  it('starts on reward advantage when a reward source exists, else on the base log-prob', () => {
    expect(defaultSignal(step(-1, -1, { 'arm:a': -2 }))).toBe('advantage');
    expect(defaultSignal(step(-1, -1))).toBe('logprob');
    expect(defaultSignal(undefined)).toBe('logprob');
  });

  it('labels a scale with 0 only where 0 means something', () => {
    expect(SIGNAL_INFO.advantage.zero && SIGNAL_INFO.shift.zero && SIGNAL_INFO.oracle.zero).toBe(true);
    expect(SIGNAL_INFO.logprob.zero || SIGNAL_INFO.reward.zero).toBe(false);
    const d = signalScale([1.5, -0.5, 0, NaN], 'advantage');
    expect(d).toEqual({ kind: 'diverging', scaled: [1, -1 / 3, 0, NaN], low: -1.5, high: 1.5 });
    // log-probs are all ≤ 0: a min–max scale labelled with the run's min and max, no "0" in the middle
    const r = signalScale([-4, -2, -1], 'logprob');
    expect(r.kind).toBe('range');
    expect(r.low).toBe(-4);
    expect(r.high).toBe(-1);
    expect(r.scaled).toEqual([0, 2 / 3, 1]);
    expect(signalScale([NaN], 'reward').scaled).toEqual([NaN]);
  });

  it('diverging scales keep the sign and 0 of every value; range scales keep the order (property)', () => {
    // values on a 0.001 grid (no denormals, whose halves underflow to 0)
    const vals = fc.array(fc.integer({ min: -50_000, max: 50_000 }).map((k) => k / 1000), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(vals, (v) => {
        const d = signalScale(v, 'advantage').scaled;
        v.forEach((x, i) => {
          expect(Math.sign(d[i]!) + 0).toBe(Math.sign(x) + 0); // −0 and 0 alike
          expect(Math.abs(d[i]!)).toBeLessThanOrEqual(1);
        });
        const r = signalScale(v, 'logprob').scaled;
        v.forEach((x, i) =>
          v.forEach((y, j) => {
            if (x < y) expect(r[i]!).toBeLessThanOrEqual(r[j]!);
          }),
        );
        expect(Math.max(...r)).toBe(1);
      }),
    );
  });
});
