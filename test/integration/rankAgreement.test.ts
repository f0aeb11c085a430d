/**
 * `rank --json`'s `agreement` on studio exports (CLI parity with the studio's agreement table): on a
 * file with human and model labels on the same pairs (Hybrid Preferences), and on one from the
 * ranked-list mode, the CLI's κ and accuracy against the human labels equal what the page computes
 * (StudioState.runAgreement: the rank report of the human-labelled records only, then `scorerKappa`
 * on its margins and the records' screen positions); κ between the two labellers equals Cohen's κ of
 * their picks. A file without labellers gets no `agreement`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import './env.ts';
import { parseArgs } from '../../src/cli/args.ts';
import { formatRank, rank } from '../../src/cli/rank.ts';
import { cohensKappa, scorerKappa } from '../../src/core/metrics/agreement.ts';
import { emptySession, label, toTrl, trlRecords, withCandidates, type Session, type StudioPrompt, type Verdict } from '../../src/core/studio/session.ts';
import { pick, setMode, tieRest } from '../../src/core/studio/ranking.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'rank-agreement-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PROMPTS: StudioPrompt[] = [
  { text: 'The economy', candidates: [' is doing great and strong.', ' is terrible and weak.', ' grew by two percent.', ' is a wonderful success.'].map((text) => ({ text, finished: true })) },
  { text: 'Our nation', candidates: [' is proud and free.', ' has failed us badly.', ' endures.'].map((text) => ({ text, finished: false })) },
];
const fresh = (labeller: string): Session => withCandidates(emptySession(labeller, 7), PROMPTS, null);
const write = (name: string, text: string) => {
  const f = path.join(tmp, name);
  writeFileSync(f, text);
  return f;
};
const RM = ['--scorer', 'sequence', '--reward-model', 'tiny-rm-positive'];

/** What the studio page does (studio.svelte.ts runAgreement): rank the human-labelled records, κ from their margins and screen positions. */
async function pageAgreement(s: Session) {
  const recs = trlRecords(s, (l) => !l.startsWith('model:'));
  const file = write(`page-${Math.random().toString(36).slice(2)}.jsonl`, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const report = await rank(parseArgs([...RM, '--dataset', file]));
  const shownAt = new Map(recs.map((r) => [r.id, r.studio.chosen_shown]));
  return { report, kappa: scorerKappa(report.pairs.map((p) => ({ margin: p.margin, chosenShown: shownAt.get(p.id) ?? 1 }))) };
}

describe('rank --json agreement on studio exports', () => {
  it('human and model labels on the same pairs: κ and accuracy against the human labels equal the page; κ between labellers', async () => {
    // the person: 1, 2, tie, 1, 2, 2, 1, skip, 1 over the 6 + 3 pairs; the model judge labels every pair
    let human = fresh('human:ann');
    for (const v of ['1', '2', 'tie', '1', '2', '2', '1', 'skip', '1'] as Verdict[]) human = label(human, v);
    let model = fresh('model:judge');
    for (const v of ['1', '1', '2', '2', '2', '1', '1', '2', '2'] as Verdict[]) model = label(model, v);
    const mixed = write('mixed.jsonl', toTrl(human).text + toTrl(model).text);
    const out = await rank(parseArgs([...RM, '--dataset', mixed]));
    expect(out.n).toBe(7 + 9); // the contract's fields still cover every record
    const a = out.agreement;
    if (!a) throw new Error('no agreement block');
    const page = await pageAgreement(human);
    expect(a.n).toBe(7);
    expect(a.n).toBe(page.report.n);
    expect(a.accuracy).toBe(page.report.accuracy);
    expect(a.ci95).toEqual(page.report.ci95);
    expect(a.kappa).not.toBeNull();
    expect(a.kappa).toBe(page.kappa.kappa);
    expect(a.table).toEqual(page.kappa.table);
    expect(a.labellers).toEqual({ 'human:ann': 7, 'model:judge': 9 });
    // between labellers: the pairs both picked 1 or 2 on, in the person's screen positions (same seed, same flips)
    const both = human.labels.map((l, i) => [l?.verdict, model.labels[i]?.verdict]).filter(([h]) => h === '1' || h === '2') as [string, string][];
    const k = cohensKappa(both.map((x) => x[0]), both.map((x) => x[1]));
    expect(a.between_labellers).toEqual([{ a: 'human:ann', b: 'model:judge', n: 7, kappa: k.kappa, observed: k.observed, expected: k.expected }]);
    expect(formatRank(out)).toMatch(/agreement with the human labels \(7 pairs\): accuracy .*Cohen's κ .*; κ human:ann vs model:judge .* on 7 shared pairs/);
  });

  it('a ranked-list export: rank reads its implied pairs and the agreement equals the page', async () => {
    let s = setMode(fresh('human:ann'), 'ranked');
    s = pick(pick(s, 2), 4); // prompt 0: two picks, then T ties the other two
    s = tieRest(s);
    s = pick(pick(s, 3), 1); // prompt 1: full ranking
    const file = write('ranked.jsonl', toTrl(s).text);
    const out = await rank(parseArgs([...RM, '--dataset', file]));
    expect(out.n).toBe(5 + 3);
    const page = await pageAgreement(s);
    expect(out.agreement?.n).toBe(8);
    expect(out.agreement?.accuracy).toBe(page.report.accuracy);
    expect(out.agreement?.kappa).not.toBeNull();
    expect(out.agreement?.kappa).toBe(page.kappa.kappa);
    expect(out.agreement?.between_labellers).toEqual([]);
  });

  it('adds nothing for a file whose records name no labeller', async () => {
    const file = write('plain.jsonl', '{"prompt":"The economy","chosen":" is strong.","rejected":" is weak."}\n');
    const out = await rank(parseArgs([...RM, '--dataset', file]));
    expect(out.n).toBe(1);
    expect(out).not.toHaveProperty('agreement');
  });
});
