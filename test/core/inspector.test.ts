import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { barPercent, inspectorColumns, niceCeil } from '../../src/core/viz/inspector.ts';
import type { RowStep } from '../../src/core/search/events.ts';

const e = (tokenId: number, p: number) => ({ tokenId, value: Math.log(p) });
const guidedStep: RowStep = {
  row: 0, parent: 0, group: 0, tokenId: 7, logprob: Math.log(0.038), combinedLogprob: Math.log(0.531),
  rewards: { 'arm:pos': Math.log(0.3) }, score: 0,
  top: [e(1, 0.4), e(2, 0.2), e(7, 0.038)],
  topRewards: { 'arm:pos': [e(7, 0.3), e(1, 0.1)], 'implicit:dpo': [{ tokenId: 7, value: 1.2 }, { tokenId: 1, value: -0.4 }] },
  topCombined: [e(7, 0.531), e(1, 0.2)],
};

describe('step inspector columns', () => {
  it('draws base, each ARM and combined on one shared probability axis', () => {
    const cols = inspectorColumns(guidedStep);
    expect(cols.map((c) => c.key)).toEqual(['base', 'arm:pos', 'implicit:dpo', 'combined']);
    const base = cols[0]!;
    const comb = cols[3]!;
    expect(base.axisMax).toBe(0.6);
    expect(comb.axisMax).toBe(0.6);
    expect(cols[1]!.axisMax).toBe(0.6);
    // p = 0.038 under the base and 0.531 combined: bars of 6.3% and 88.5% of the same axis
    // (scaled per column they were 9.5% and 100%: the token's jump did not show)
    expect(barPercent(base, base.list[2]!.value)).toBeCloseTo((0.038 / 0.6) * 100, 9);
    expect(barPercent(comb, comb.list[0]!.value)).toBeCloseTo((0.531 / 0.6) * 100, 9);
    expect(barPercent(comb, comb.list[0]!.value) / barPercent(base, base.list[2]!.value)).toBeCloseTo(0.531 / 0.038, 9);
    // the implicit reward is a log-ratio, on its own signed axis
    expect(cols[2]!.kind).toBe('value');
    expect(cols[2]!.axisMax).toBe(1.2);
    expect(barPercent(cols[2]!, -0.4)).toBeCloseTo((0.4 / 1.2) * 100, 9);
    expect(cols.map((c) => c.filtered)).toEqual([false, false, false, true]);
  });

  it('an unguided step has one policy column that the filters apply to', () => {
    const cols = inspectorColumns({ ...guidedStep, topRewards: undefined, topCombined: undefined });
    expect(cols).toHaveLength(1);
    expect(cols[0]!.filtered).toBe(true);
    expect(cols[0]!.axisMax).toBe(0.4);
  });

  it('niceCeil is a round number at or above x, and bars never exceed their axis (property)', () => {
    expect([0.531, 0.038, 0.97, 0.4, 1, 0.011].map(niceCeil)).toEqual([0.6, 0.04, 1, 0.4, 1, 0.012]);
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1e-6, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }), (ps) => {
        const step = { ...guidedStep, topRewards: undefined, top: ps.map((p, i) => e(i, p)), topCombined: ps.map((p, i) => e(i, p / 2)) };
        const cols = inspectorColumns(step);
        const m = Math.max(...ps);
        expect(cols[0]!.axisMax).toBeGreaterThanOrEqual(m * (1 - 1e-9));
        expect(cols[0]!.axisMax).toBeLessThanOrEqual(Math.min(1, 2 * m) + 1e-12);
        for (const c of cols) for (const x of c.list) expect(barPercent(c, x.value)).toBeLessThanOrEqual(100);
        expect(cols[0]!.axisMax).toBe(cols[1]!.axisMax);
      }),
    );
  });
});
