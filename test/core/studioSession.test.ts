/** The studio's session (src/core/studio/session.ts): pairs, label/tie/skip/undo, TRL export and re-import. */
import { describe, expect, it } from 'vitest';
import { readDataset } from '../../src/core/data/preferences.ts';
import {
  addPrompts,
  allPairs,
  checkSession,
  counts,
  emptySession,
  fromPairs,
  label,
  labellerId,
  parsePrompts,
  revisitSkipped,
  shown,
  toTrl,
  undo,
  withCandidates,
  type Session,
  type StudioPrompt,
} from '../../src/core/studio/session.ts';

const PROMPTS: StudioPrompt[] = [
  { text: 'The economy', candidates: [{ text: ' grew', finished: true }, { text: ' shrank', finished: false }, { text: ' held', finished: true }] },
  { text: 'Our nation', candidates: [{ text: ' is strong', finished: true }, { text: ' endures', finished: true }] },
];
const fresh = (seed = 3): Session => withCandidates(emptySession('human:ann', seed, ['helpfulness']), PROMPTS, { method: 'sample', k: 3, policy: 'tiny-base', maxNewTokens: 8, seed: 1 });

describe('studio session', () => {
  it('has every pair of each prompt (k·(k−1)/2), the first on screen, and a seeded screen order', () => {
    const s = fresh();
    expect(s.pairs.map((p) => [p.prompt, p.a, p.b])).toEqual([
      [0, 0, 1],
      [0, 0, 2],
      [0, 1, 2],
      [1, 0, 1],
    ]);
    expect(s.position).toBe(0);
    expect(counts(s)).toEqual({ preferred: 0, ties: 0, skips: 0, open: 4 });
    expect(allPairs(PROMPTS, 3)).toEqual(s.pairs);
    // over many pairs, both orders occur, and about half are flipped
    const many = allPairs([{ text: 'x', candidates: Array.from({ length: 20 }, (_, i) => ({ text: String(i), finished: true })) }], 11);
    const flipped = many.filter((p) => p.flip).length;
    expect(many.length).toBe(190);
    expect(flipped).toBeGreaterThan(190 * 0.35);
    expect(flipped).toBeLessThan(190 * 0.65);
  });

  it('label, tie and skip move on to the next open pair; undo walks back one at a time; a finished session has no position', () => {
    let s = fresh();
    s = label(s, '1');
    expect(s.position).toBe(1);
    s = label(s, 'tie');
    s = label(s, 'skip');
    expect(s.position).toBe(3);
    s = label(s, '2', { rationale: '  clearer ', scores: { helpfulness: [2, 4] } });
    expect(s.position).toBeNull();
    expect(counts(s)).toEqual({ preferred: 2, ties: 1, skips: 1, open: 0 });
    expect(s.labels[3]).toEqual({ verdict: '2', labeller: 'human:ann', rationale: 'clearer', scores: { helpfulness: [2, 4] } });
    s = undo(s);
    expect(s.position).toBe(3);
    expect(s.labels[3]).toBeNull();
    s = undo(s);
    expect(s.position).toBe(2);
    s = undo(s);
    s = undo(s);
    expect(s.position).toBe(0);
    expect(counts(s).open).toBe(4);
    expect(undo(s)).toBe(s); // nothing left to undo
    // skip, then revisit: the skipped pair comes back
    s = label(label(label(label(s, 'skip'), '1'), '2'), '1');
    expect(s.position).toBeNull();
    s = revisitSkipped(s);
    expect(s.position).toBe(0);
    expect(counts(s)).toEqual({ preferred: 3, ties: 0, skips: 0, open: 1 });
  });

  it('survives a JSON round trip (what IndexedDB or a file keeps) and refuses a damaged one', () => {
    const s = label(label(fresh(), '1'), 'tie');
    expect(checkSession(JSON.parse(JSON.stringify(s)))).toEqual(s);
    expect(() => checkSession({ ...s, version: 9 })).toThrow(/version 9/);
    expect(() => checkSession({ ...s, labels: [] })).toThrow(/damaged/);
  });

  it('exports preferred pairs as TRL JSONL (ties and skips counted, not written) with chosen = the response picked on screen', () => {
    let s = fresh();
    s = label(s, '2', { scores: { helpfulness: [1, 5] }, rationale: 'more specific' });
    s = label(s, 'tie');
    s = label(s, 'skip');
    s = label(s, '1');
    const out = toTrl(s);
    expect(out).toMatchObject({ written: 2, ties: 1, skips: 1, open: 0 });
    const recs = out.text.trim().split('\n').map((l) => JSON.parse(l));
    const v0 = shown(s, 0);
    expect(recs[0]).toEqual({
      id: 'p0-c0-c1',
      prompt: 'The economy',
      chosen: v0.second.text,
      rejected: v0.first.text,
      labeller: 'human:ann',
      chosen_finished: v0.second.finished,
      rejected_finished: v0.first.finished,
      rationale: 'more specific',
      attributes: { chosen: { helpfulness: 5 }, rejected: { helpfulness: 1 } },
      studio: { prompt: 0, chosen: v0.secondIndex, rejected: v0.firstIndex, chosen_shown: 2 },
    });
    expect(recs[1]).toMatchObject({ id: 'p1-c0-c1', prompt: 'Our nation', chosen: shown(s, 3).first.text, studio: { chosen_shown: 1 } });
  });

  it('is read by the ranking reader as plain TRL pairs, and re-imports to the same labels, screen orders and candidates', async () => {
    let s = fresh(5);
    s = label(s, '2', { scores: { helpfulness: [1, 5] }, rationale: 'why' });
    s = label(s, '1');
    s = label(s, '2');
    s = label(s, '1');
    const text = toTrl(s).text;
    const { pairs, errors } = await readDataset([text]);
    expect(errors).toEqual([]);
    expect(pairs.map((p) => p.id)).toEqual(['p0-c0-c1', 'p0-c0-c2', 'p0-c1-c2', 'p1-c0-c1']);
    expect(pairs[0]?.extra.labeller).toBe('human:ann');
    const back = fromPairs(pairs, emptySession('human:someone-else', 99), 'human:file').session;
    expect(back.prompts).toEqual(s.prompts);
    expect(back.pairs).toEqual(s.pairs);
    expect(back.labels).toEqual(s.labels);
    expect(back.attributes).toEqual(['helpfulness']);
    expect(back.position).toBeNull();
    expect(toTrl(back).text).toBe(text);
  });

  it('re-imports a partial export (open pairs stay open) and a plain TRL file (one prompt, two candidates per pair)', async () => {
    let s = fresh(5);
    s = label(s, '1');
    s = label(s, 'tie');
    s = label(s, '2');
    const back = fromPairs((await readDataset([toTrl(s).text])).pairs, emptySession(), 'human:file').session;
    // the file holds prompt 0's two preferred pairs: its third pair (the tie) is open again, and
    // prompt 1, with no preferred pair, is not in the file
    expect(back.prompts.map((p) => p.text)).toEqual(['The economy']);
    expect(counts(back)).toEqual({ preferred: 2, ties: 0, skips: 0, open: 1 });
    expect(back.labels[0]).toEqual(s.labels[0]);
    expect(back.labels[2]).toEqual(s.labels[2]);
    const plain = (await readDataset(['{"prompt":"A","chosen":" x","rejected":" y"}\n{"prompt":"A","chosen":" y","rejected":" x"}\n'])).pairs;
    const r = fromPairs(plain, emptySession(), 'human:file');
    expect(r.session.prompts).toEqual([{ text: 'A', candidates: [{ text: ' x', finished: true }, { text: ' y', finished: true }] }]);
    expect(r.duplicates).toBe(1);
    expect(r.session.labels[0]).toMatchObject({ labeller: 'human:file' });
    expect(shown(r.session, 0).first.text).toBe(' x'); // chosen_shown defaults to 1: the chosen shown first
    expect(() => fromPairs([], emptySession(), 'x')).toThrow(/no labelled pairs/);
  });

  it('reads prompts one per line and names the labeller', () => {
    expect(parsePrompts(' a \n\n b\r\n')).toEqual(['a', 'b']);
    expect(labellerId(' ann ')).toBe('human:ann');
    expect(labellerId('')).toBe('human:anonymous');
    expect(labellerId('model:tiny-rm-positive')).toBe('model:tiny-rm-positive');
  });
});

describe('adding prompts', () => {
  it('appends their pairs after the existing ones, keeps labels and screen orders, and equals building all at once', () => {
    const one = withCandidates(emptySession('human:ann', 3), PROMPTS.slice(0, 1), null);
    const labelled = label(one, '2');
    const both = addPrompts(labelled, PROMPTS.slice(1), null);
    expect(both.pairs).toEqual(fresh(3).pairs);
    expect(both.labels[0]).toEqual(labelled.labels[0]);
    expect(both.position).toBe(1);
    // a finished session gets the new prompts' first pair on screen
    const done = label(label(labelled, '1'), '1');
    expect(done.position).toBeNull();
    expect(addPrompts(done, PROMPTS.slice(1), null).position).toBe(3);
  });
});
