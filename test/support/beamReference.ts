/**
 * Test helpers for beam search:
 * - PairModel: a seeded random LanguageModel whose next-token logits depend on the last two tokens
 *   (so beams diverge), with an EOS bonus so that most hypotheses finish.
 * - refBeam / refDiverse: slow, literal transcriptions of research/algorithms.md §3.1 (HF 5.18
 *   `_beam_search`, tensor by tensor) and §3.2 (HF 4.57.6 group beam search loop with
 *   `BeamSearchScorer.process/finalize` and `BeamHypotheses`), over whole token sequences with no
 *   caches, sources or events. They share nothing with src/core/search except logSoftmax.
 */
import type { KvCache, LanguageModel, StepResult } from '../../src/core/model/types.ts';
import { logSoftmax } from '../../src/core/math/logits.ts';

const f = Math.fround;

/** Numerical recipes LCG; returns uniforms in [0, 1). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

class PairCache implements KvCache {
  disposed = false;
  constructor(
    readonly seqs: number[][],
    readonly live: Set<PairCache>,
  ) {
    live.add(this);
  }
  get length(): number {
    return Math.max(...this.seqs.map((s) => s.length));
  }
  get rows(): number {
    return this.seqs.length;
  }
  async select(rows: Int32Array): Promise<KvCache> {
    if (this.disposed) throw new Error('select after dispose');
    return new PairCache(Array.from(rows, (r) => [...(this.seqs[r] as number[])]), this.live);
  }
  dispose(): void {
    this.disposed = true;
    this.live.delete(this);
  }
}

export class PairModel implements LanguageModel {
  readonly id = 'pair';
  readonly contextLength = 64;
  readonly eosTokenIds: readonly number[] = [0];
  readonly live = new Set<PairCache>();
  /** table[(prev2 · V + prev1)] with prev2 = V when the sequence has one token. */
  private readonly table: Float32Array[];
  constructor(
    seed: number,
    readonly vocabSize = 8,
    eosBonus = 1,
  ) {
    const u = lcg(seed);
    this.table = Array.from({ length: (vocabSize + 1) * vocabSize }, () =>
      Float32Array.from({ length: vocabSize }, (_, v) => 2 * (u() + u() + u() - 1.5) + (v === 0 ? eosBonus : 0)),
    );
  }
  logitsFor(seq: readonly number[]): Float32Array {
    const n = seq.length;
    const prev2 = n >= 2 ? (seq[n - 2] as number) : this.vocabSize;
    return this.table[prev2 * this.vocabSize + (seq[n - 1] as number)] as Float32Array;
  }
  /** The next-token log-probs the engine sees (ModelSource applies the same logSoftmax). */
  logprobsFor(seq: readonly number[]): Float32Array {
    return logSoftmax(this.logitsFor(seq));
  }
  async prefill(batch: readonly (readonly number[])[]): Promise<StepResult> {
    return { logits: batch.map((r) => Float32Array.from(this.logitsFor(r))), cache: new PairCache(batch.map((r) => [...r]), this.live) };
  }
  async step(cache: KvCache, next: Int32Array): Promise<StepResult> {
    const c = cache as PairCache;
    if (c.disposed) throw new Error('step on a disposed cache');
    const seqs = c.seqs.map((s, i) => [...s, next[i] as number]);
    c.dispose();
    return { logits: seqs.map((s) => Float32Array.from(this.logitsFor(s))), cache: new PairCache(seqs, this.live) };
  }
  async score(): Promise<Float32Array[]> {
    throw new Error('not used');
  }
  async dispose(): Promise<void> {}
}

export interface RefConfig {
  numBeams: number;
  maxNewTokens: number;
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
  numReturnSequences: number;
  eos: readonly number[];
  processors?: readonly ((row: Float32Array, history: readonly number[]) => void)[];
}

export interface RefResult {
  tokens: number[];
  score: number;
}

type LogprobFn = (seq: readonly number[]) => Float32Array;

/** Indices of xs sorted by value descending, lower index first on ties (handles -Infinity). */
function argsortDesc(xs: readonly number[]): number[] {
  return xs.map((_, i) => i).sort((a, b) => {
    const x = xs[a] as number;
    const y = xs[b] as number;
    return x > y ? -1 : x < y ? 1 : a - b;
  });
}

function processed(lpFn: LogprobFn, seq: readonly number[], cfg: RefConfig): Float32Array {
  const row = Float32Array.from(lpFn(seq));
  for (const p of cfg.processors ?? []) p(row, seq);
  return row;
}

/** §3.1, transcribed step by step. */
export function refBeam(lpFn: LogprobFn, prompt: readonly number[], cfg: RefConfig): RefResult[] {
  const { numBeams: B, lengthPenalty: lp, earlyStopping: es, eos } = cfg;
  const P = prompt.length;
  const L = P + cfg.maxNewTokens;
  const K = Math.max(2, 1 + eos.length) * B;
  let runSeq: number[][] = Array.from({ length: B }, () => [...prompt]);
  let runScore: number[] = Array.from({ length: B }, (_, b) => (b === 0 ? 0 : -1e9));
  let seqs: number[][] = Array.from({ length: B }, () => [...prompt]);
  let beamScores: number[] = new Array<number>(B).fill(-1e9);
  let fin: boolean[] = new Array<boolean>(B).fill(false);
  let unsat = true;
  let cur = P;
  for (;;) {
    const V = lpFn(runSeq[0] as number[]).length;
    const flat: number[] = [];
    runSeq.forEach((s, b) => processed(lpFn, s, cfg).forEach((l) => flat.push(f(l + (runScore[b] as number)))));
    const idx = argsortDesc(flat).slice(0, Math.min(K, flat.length));
    const topLp = idx.map((i) => flat[i] as number);
    const topSeq = idx.map((i) => [...(runSeq[Math.floor(i / V)] as number[]), i % V]);
    const hits = topSeq.map((s) => eos.includes(s[s.length - 1] as number) || s.length >= L);
    const rr = topLp.map((x, k) => f(x + (hits[k] ? -1e9 : 0)));
    const nidx = argsortDesc(rr).slice(0, B);
    runSeq = nidx.map((i) => topSeq[i] as number[]);
    runScore = nidx.map((i) => rr[i] as number);
    const d = f((cur + 1 - P) ** lp);
    const full = fin.every(Boolean) && es === true;
    const just = hits.map((h, k) => h && k < B);
    const tl = topLp
      .map((x) => f(x / d))
      .map((x) => f(x + (full ? -1e9 : 0)))
      .map((x) => f(x + (unsat ? 0 : -1e9)))
      .map((x, k) => f(x + (just[k] ? 0 : -1e9)));
    const mScores = [...beamScores, ...tl];
    const mSeq = [...seqs, ...topSeq];
    const mFin = [...fin, ...just];
    const m = argsortDesc(mScores).slice(0, B);
    seqs = m.map((i) => mSeq[i] as number[]);
    beamScores = m.map((i) => mScores[i] as number);
    fin = m.map((i) => mFin[i] as boolean);
    cur += 1;
    const hypLen = es === 'never' && lp > 0 ? L - P : cur - P;
    const bestRun = f((runScore[0] as number) / f(hypLen ** lp));
    const worstFin = Math.min(...beamScores);
    unsat = unsat && fin.some((fi) => bestRun > (fi ? worstFin : -1e9));
    const open = !(fin.every(Boolean) && es === true);
    const valid = !hits.every(Boolean);
    if (!(unsat && open && valid)) break;
  }
  return seqs.slice(0, cfg.numReturnSequences).map((s, j) => ({ tokens: s.slice(P), score: beamScores[j] as number }));
}

interface RefHyp {
  score: number;
  seq: number[];
  eosToken: number | null;
}

/** §3.2, transcribed from the HF loop, `BeamSearchScorer.process/finalize` and `BeamHypotheses`. */
export function refDiverse(lpFn: LogprobFn, prompt: readonly number[], cfg: RefConfig & { numBeamGroups: number; diversityPenalty: number }): RefResult[] {
  const { numBeams: B, numBeamGroups: G, lengthPenalty: lp, earlyStopping: es, eos } = cfg;
  const gs = B / G;
  const P = prompt.length;
  const L = P + cfg.maxNewTokens;
  const K = Math.max(2, 1 + eos.length) * gs;
  const pad = eos[0] as number;
  const hyps = Array.from({ length: G }, () => ({ beams: [] as RefHyp[], worst: 1e9 }));
  const doneG = new Array<boolean>(G).fill(false);
  const add = (g: number, seq: number[], sum: number, genLen: number, eosToken: number | null): void => {
    const h = hyps[g] as { beams: RefHyp[]; worst: number };
    const score = sum / genLen ** lp;
    if (h.beams.length < gs || score > h.worst) {
      h.beams.push({ score, seq, eosToken });
      if (h.beams.length > gs) {
        const sorted = h.beams.map((b, i) => [b.score, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        h.beams.splice((sorted[0] as [number, number])[1], 1);
        h.worst = (sorted[1] as [number, number])[0];
      } else h.worst = Math.min(score, h.worst);
    }
  };
  const isDone = (g: number, best: number, curLen: number): boolean => {
    const h = hyps[g] as { beams: RefHyp[]; worst: number };
    if (h.beams.length < gs) return false;
    if (es === true) return true;
    if (es === false || lp <= 0) return h.worst >= best / (curLen - P) ** lp;
    return h.worst >= best / (L - P) ** lp;
  };
  let inputIds: number[][] = Array.from({ length: B }, () => [...prompt]);
  const beamScores: number[] = Array.from({ length: B }, (_, i) => (i % gs === 0 ? 0 : -1e9));
  for (;;) {
    const currentTokens = new Array<number>(B).fill(0);
    const V = lpFn(inputIds[0] as number[]).length;
    const newInput: number[][] = new Array<number[]>(B);
    for (let g = 0; g < G; g++) {
      const start = g * gs;
      const groupIds = inputIds.slice(start, start + gs);
      const freq = new Array<number>(V).fill(0);
      for (const t of currentTokens.slice(0, start)) freq[t] = (freq[t] as number) + 1;
      const nts: number[] = [];
      groupIds.forEach((seq, j) => {
        const l = processed(lpFn, seq, cfg);
        if (g > 0) for (let v = 0; v < V; v++) l[v] = f((l[v] as number) - f(f(cfg.diversityPenalty) * (freq[v] as number)));
        l.forEach((x) => nts.push(f(x + (beamScores[start + j] as number))));
      });
      const idx = argsortDesc(nts).slice(0, Math.min(K, nts.length));
      const curLen = (groupIds[0] as number[]).length + 1;
      const nextScores = new Array<number>(gs).fill(0);
      const nextTokens = new Array<number>(gs).fill(pad);
      const nextIdx = new Array<number>(gs).fill(0);
      if (!doneG[g]) {
        let beamIdx = 0;
        for (let rank = 0; rank < idx.length; rank++) {
          const i = idx[rank] as number;
          const token = i % V;
          const from = Math.floor(i / V);
          const score = nts[i] as number;
          if (eos.includes(token)) {
            if (rank >= gs) continue;
            add(g, [...(groupIds[from] as number[])], score, curLen - P, token);
          } else {
            nextScores[beamIdx] = score;
            nextTokens[beamIdx] = token;
            nextIdx[beamIdx] = from;
            beamIdx++;
          }
          if (beamIdx === gs) break;
        }
        if (beamIdx < gs) throw new Error('not enough non-EOS candidates');
        doneG[g] = doneG[g] || isDone(g, nts[idx[0] as number] as number, curLen);
      }
      for (let j = 0; j < gs; j++) {
        beamScores[start + j] = nextScores[j] as number;
        newInput[start + j] = [...(groupIds[nextIdx[j] as number] as number[]), nextTokens[j] as number];
        currentTokens[start + j] = nextTokens[j] as number;
      }
    }
    inputIds = newInput;
    if (doneG.every(Boolean) || (inputIds[0] as number[]).length >= L || inputIds.every((s) => eos.includes(s[s.length - 1] as number))) break;
  }
  for (let g = 0; g < G; g++) {
    if (doneG[g]) continue;
    for (let j = 0; j < gs; j++) add(g, inputIds[g * gs + j] as number[], beamScores[g * gs + j] as number, (inputIds[g * gs + j] as number[]).length - P, null);
  }
  const sorted = hyps.flatMap((h) => h.beams).map((h, i) => [h, i] as const);
  sorted.sort((a, b) => a[0].score - b[0].score || a[1] - b[1]); // stable ascending
  const out: RefResult[] = [];
  for (let j = 0; j < cfg.numReturnSequences; j++) {
    const [h] = sorted.pop() as readonly [RefHyp, number];
    out.push({ tokens: [...h.seq.slice(P), ...(h.eosToken === null ? [] : [h.eosToken])], score: f(h.score) });
  }
  return out;
}
